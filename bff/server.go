package bff

import (
	"container/list"
	"net"
	"net/http"
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
	conns  map[net.Conn]*list.Element // the connections that are idle or silent
	idle   list.List                  // of *tracked, longest idle first
	silent list.List                  // of *tracked, accepted first
	closed uint64                     // connections closed to make room
}

// tracked is one connection waiting for a request.
type tracked struct {
	c     net.Conn
	since time.Time
	idle  bool // on idle (between requests), else on silent (none completed yet)
}

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
		slots: make(chan struct{}, maxConns), conns: map[net.Conn]*list.Element{},
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

// connState follows each connection through the server's states.
func (l *ConnLimiter) connState(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	l.forget(c)
	switch s {
	case http.StateNew:
		l.conns[c] = l.silent.PushBack(&tracked{c: c, since: time.Now()})
	case http.StateIdle:
		l.conns[c] = l.idle.PushBack(&tracked{c: c, since: time.Now(), idle: true})
	}
	l.mu.Unlock()
	if s == http.StateIdle {
		l.makeRoom()
	}
	if l.hook != nil {
		l.hook(c, s)
	}
}

// forget drops c from the lists; l.mu is held.
func (l *ConnLimiter) forget(c net.Conn) {
	if e, ok := l.conns[c]; ok {
		if e.Value.(*tracked).idle {
			l.idle.Remove(e)
		} else {
			l.silent.Remove(e)
		}
		delete(l.conns, c)
	}
}

// makeRoom closes waiting connections, longest idle first, until fewer
// than the high-water mark are open or none may be closed.
func (l *ConnLimiter) makeRoom() {
	if l.open() < l.high {
		return
	}
	var victims []net.Conn
	l.mu.Lock()
	need := l.open() - l.high + 1
	for e := l.idle.Front(); e != nil && len(victims) < need; e = l.idle.Front() {
		victims = append(victims, e.Value.(*tracked).c)
		l.forget(e.Value.(*tracked).c)
	}
	cutoff := time.Now().Add(-l.grace)
	for e := l.silent.Front(); e != nil && len(victims) < need && e.Value.(*tracked).since.Before(cutoff); e = l.silent.Front() {
		victims = append(victims, e.Value.(*tracked).c)
		l.forget(e.Value.(*tracked).c)
	}
	l.closed += uint64(len(victims))
	l.mu.Unlock()
	// The server's read fails, and it reports StateClosed.
	for _, c := range victims {
		c.Close()
	}
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
	ln.lim.n.Add(1)
	ln.lim.makeRoom()
	return &limitConn{Conn: c, release: func() { ln.lim.n.Add(-1); ln.release() }}, nil
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

// limitConn gives its slot back once, on the first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and frees its slot.
func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
