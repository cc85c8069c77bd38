package bff

import (
	"cmp"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults HardenServer gives an http.Server's zero fields.
const (
	// DefaultMaxConnections bounds the connections a hardened server keeps
	// open at once (HTTP_MAX_CONNECTIONS).
	DefaultMaxConnections = 4096
	// DefaultIdleTimeout closes a keep-alive connection idle this long
	// (HTTP_IDLE_TIMEOUT).
	DefaultIdleTimeout = 30 * time.Second
	// DefaultReadHeaderTimeout bounds reading a request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultMaxHeaderBytes bounds a request's line and headers (net/http
	// allows 1 MiB; Node, which NextAuth runs on, 16 KiB).
	DefaultMaxHeaderBytes = 32 << 10
)

// silentGrace is how long a connection may stay silent before its first
// request completes and still be spared from closing under pressure (what
// http.Server.Shutdown allows such connections too).
const silentGrace = 5 * time.Second

// waitEvictEvery is how often an Accept held at the cap looks again for
// connections to close (silent ones grow past silentGrace while it waits).
const waitEvictEvery = 250 * time.Millisecond

// ConnLimiter bounds an http.Server's open connections and keeps idle
// keep-alive connections from starving new ones. Make it with
// HardenServer, and serve the server only on listeners wrapped by Listener.
//
// Once the open connections reach the high-water mark (7/8 of the cap), the
// connections idle between requests are closed, longest idle first, then
// the ones that have not completed a first request for 5 s; a client that
// reuses such a connection sees it closed, as after any server's idle
// timeout, and retries on a new one. At the cap itself, Accept waits (new
// connections queue in the kernel) until a connection closes: that happens
// only when that many connections are busy serving requests or have been
// silent for less than 5 s. Connections a handler hijacked (WebSockets)
// hold their slot until closed, and are never closed to make room.
type ConnLimiter struct {
	high  int           // the high-water mark
	slots chan struct{} // one per open connection or waiting Accept; cap is the limit
	n     atomic.Int64  // open connections
	hook  func(net.Conn, http.ConnState)
	grace time.Duration // silentGrace; shorter in tests

	mu     sync.Mutex
	conns  map[*limitConn]struct{} // every open connection (changed per connection, not per request)
	closed uint64                  // connections closed to make room
}

// Connection states a limitConn records (its state field).
const (
	connSilent int32 = iota // accepted, no request completed yet
	connActive              // serving a request, or hijacked
	connIdle                // between requests
)

// HardenServer prepares srv for untrusted clients and returns the
// ConnLimiter whose Listener srv must be served on:
//
//	srv := &http.Server{Handler: b.Handler()}
//	lim := bff.HardenServer(srv, 0)
//	err := srv.Serve(lim.Listener(ln))
//
// Zero fields of srv get DefaultReadHeaderTimeout, DefaultIdleTimeout and
// DefaultMaxHeaderBytes (fields already set are kept); srv.ConnState is
// replaced by the limiter's, which still calls a hook that was set.
// maxConns is the most connections open at once, DefaultMaxConnections
// when 0 or less. HardenServer sets no ReadTimeout or WriteTimeout (see
// LimitRequestRead). Call it once per server, before serving.
func HardenServer(srv *http.Server, maxConns int) *ConnLimiter {
	if maxConns <= 0 {
		maxConns = DefaultMaxConnections
	}
	if srv.ReadHeaderTimeout == 0 {
		srv.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if srv.IdleTimeout == 0 {
		srv.IdleTimeout = DefaultIdleTimeout
	}
	if srv.MaxHeaderBytes == 0 {
		srv.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	l := newConnLimiter(maxConns)
	l.hook = srv.ConnState
	srv.ConnState = l.connState
	return l
}

func newConnLimiter(maxConns int) *ConnLimiter {
	return &ConnLimiter{
		high: max(1, maxConns-maxConns/8), grace: silentGrace,
		slots: make(chan struct{}, maxConns), conns: map[*limitConn]struct{}{},
	}
}

// Listener wraps ln: Accept waits while the cap's worth of connections is
// open, and closes idle ones past the high-water mark. Closing the
// returned listener closes ln and releases a waiting Accept.
func (l *ConnLimiter) Listener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, lim: l, done: make(chan struct{})}
}

// open is the number of connections open now (a waiting Accept holds a
// slot but no connection yet).
func (l *ConnLimiter) open() int { return int(l.n.Load()) }

// connState follows each connection through the server's states. It runs
// twice per request (active, idle): two atomic stores, no lock and no
// allocation; the bookkeeping that needs the lock happens per connection.
func (l *ConnLimiter) connState(c net.Conn, s http.ConnState) {
	if lc, ok := c.(*limitConn); ok {
		switch s {
		case http.StateActive, http.StateHijacked:
			lc.state.Store(connActive)
		case http.StateIdle:
			lc.since.Store(time.Now().UnixNano())
			lc.state.Store(connIdle)
			l.makeRoom()
		}
	}
	if l.hook != nil {
		l.hook(c, s)
	}
}

// makeRoom closes waiting connections, longest idle first, then those
// silent past the grace period, until fewer than the high-water mark are
// open or none may be closed. It scans every open connection, which is
// fine: it only runs near the cap.
func (l *ConnLimiter) makeRoom() {
	if l.open() < l.high {
		return
	}
	type waiting struct {
		c     *limitConn
		since int64
	}
	var idle, silent []waiting
	cutoff := time.Now().Add(-l.grace).UnixNano()
	l.mu.Lock()
	need := l.open() - l.high + 1
	for c := range l.conns {
		switch c.state.Load() {
		case connIdle:
			idle = append(idle, waiting{c, c.since.Load()})
		case connSilent:
			if since := c.since.Load(); since < cutoff {
				silent = append(silent, waiting{c, since})
			}
		}
	}
	byAge := func(a, b waiting) int { return cmp.Compare(a.since, b.since) }
	slices.SortFunc(idle, byAge)
	slices.SortFunc(silent, byAge)
	var victims []*limitConn
	for _, w := range append(idle, silent...) {
		if len(victims) == need {
			break
		}
		victims = append(victims, w.c)
		delete(l.conns, w.c)
	}
	l.closed += uint64(len(victims))
	l.mu.Unlock()
	// The server's read fails, and it reports StateClosed.
	for _, c := range victims {
		c.Close()
	}
}

// track registers a new connection; untrack forgets a closed one.
func (l *ConnLimiter) track(c *limitConn) {
	l.mu.Lock()
	l.conns[c] = struct{}{}
	l.mu.Unlock()
}

func (l *ConnLimiter) untrack(c *limitConn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// limitListener is ConnLimiter.Listener's listener.
type limitListener struct {
	net.Listener
	lim       *ConnLimiter
	done      chan struct{}
	closeOnce sync.Once
}

// Accept takes a slot (waiting at the cap), then a connection.
func (ln *limitListener) Accept() (net.Conn, error) {
	if !ln.acquire() {
		return nil, net.ErrClosed
	}
	c, err := ln.Listener.Accept()
	if err != nil {
		ln.release()
		return nil, err
	}
	lc := &limitConn{Conn: c}
	lc.since.Store(time.Now().UnixNano())
	lc.release = func() { ln.lim.untrack(lc); ln.lim.n.Add(-1); ln.release() }
	ln.lim.track(lc)
	ln.lim.n.Add(1)
	ln.lim.makeRoom()
	return lc, nil
}

func (ln *limitListener) acquire() bool {
	select {
	case ln.lim.slots <- struct{}{}:
		return true
	case <-ln.done:
		return false
	default:
	}
	t := time.NewTicker(waitEvictEvery)
	defer t.Stop()
	for {
		ln.lim.makeRoom()
		select {
		case ln.lim.slots <- struct{}{}:
			return true
		case <-ln.done:
			return false
		case <-t.C:
		}
	}
}

func (ln *limitListener) release() { <-ln.lim.slots }

// Close closes the listener and releases a waiting Accept.
func (ln *limitListener) Close() error {
	ln.closeOnce.Do(func() { close(ln.done) })
	return ln.Listener.Close()
}

// limitConn gives its slot back once, on the first Close, and records its
// state for makeRoom.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
	state   atomic.Int32 // connSilent, connActive or connIdle
	since   atomic.Int64 // when it was accepted (silent) or went idle, Unix ns
}

// Close closes the connection and frees its slot.
func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
