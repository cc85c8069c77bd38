package bff

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// hardened serves h with HardenServer(srv, maxConns) on a loopback port;
// adjust changes the limiter before serving.
func hardened(t *testing.T, h http.Handler, maxConns int, adjust ...func(*ConnLimiter)) (string, *ConnLimiter) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	lim := HardenServer(srv, maxConns)
	for _, f := range adjust {
		f(lim)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lim.Listener(ln)) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln.Addr().String(), lim
}

// keepAlive opens a connection, completes one request on it and leaves it
// open (idle on the server).
func keepAlive(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r := bufio.NewReader(c)
	get(t, c, r)
	return c, r
}

// get sends GET / on c and reads the answer.
func get(t *testing.T, c net.Conn, r *bufio.Reader) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// closedByServer reports whether the server closed c (a read sees EOF).
func closedByServer(c net.Conn, r *bufio.Reader) bool {
	c.SetReadDeadline(time.Now().Add(time.Second))
	_, err := r.ReadByte()
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// closedCount is how many connections lim closed to make room.
func closedCount(lim *ConnLimiter) uint64 {
	lim.mu.Lock()
	defer lim.mu.Unlock()
	return lim.closed
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })

// TestHardenServerClosesIdleOldestFirst (issue 19): at the high-water mark
// (7 of 8) a new connection makes the longest idle one close; the others
// stay, and the new client is answered at once.
func TestHardenServerClosesIdleOldestFirst(t *testing.T) {
	addr, lim := hardened(t, ok, 8)
	type conn struct {
		c net.Conn
		r *bufio.Reader
	}
	idleCount := func() int {
		lim.mu.Lock()
		defer lim.mu.Unlock()
		n := 0
		for c := range lim.conns {
			if c.state.Load() == connIdle {
				n++
			}
		}
		return n
	}
	// The server marks a connection idle just after writing its answer,
	// which the client may read first: wait for each to be idle before the
	// next, so that they went idle in this order.
	var idle []conn
	for i := range 6 {
		c, r := keepAlive(t, addr)
		idle = append(idle, conn{c, r})
		waitFor(t, "the connection to go idle", func() bool { return idleCount() == i+1 })
		time.Sleep(2 * time.Millisecond)
	}
	waitFor(t, "6 idle connections", func() bool { return lim.open() == 6 && idleCount() == 6 })
	c, r := keepAlive(t, addr) // the 7th: the high-water mark
	waitFor(t, "the oldest idle connection to close", func() bool { return lim.open() == 6 })
	if !closedByServer(idle[0].c, idle[0].r) {
		t.Fatal("the longest idle connection is still open")
	}
	for _, k := range idle[1:] {
		get(t, k.c, k.r) // still open, still served
	}
	get(t, c, r)
	if n := closedCount(lim); n != 1 {
		t.Errorf("closed %d connections, want 1", n)
	}
}

// TestHardenServerKeepsBusyConnections: connections serving a request are
// never closed to make room; at the cap a new one waits for a slot.
func TestHardenServerKeepsBusyConnections(t *testing.T) {
	release := make(chan struct{})
	var busy atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			busy.Add(1)
			<-release
		}
		io.WriteString(w, "ok")
	})
	addr, _ := hardened(t, h, 4)
	errc := make(chan error, 4)
	for range 4 {
		go func() {
			resp, err := http.Get("http://" + addr + "/slow")
			if err == nil {
				resp.Body.Close()
			}
			errc <- err
		}()
	}
	waitFor(t, "4 busy requests", func() bool { return busy.Load() == 4 })
	answered := make(chan error, 1)
	go func() {
		c := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
		resp, err := c.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	select {
	case err := <-answered:
		t.Fatalf("a fifth connection was served at the cap of 4 (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	for range 4 {
		if err := <-errc; err != nil {
			t.Fatalf("a busy request was cut: %v", err)
		}
	}
	if err := <-answered; err != nil {
		t.Fatalf("the waiting client was not served once a slot freed: %v", err)
	}
}

// TestHardenServerClosesSilentConnections: at the cap, connections that
// never sent a request are closed once older than the grace period.
func TestHardenServerClosesSilentConnections(t *testing.T) {
	addr, _ := hardened(t, ok, 4, func(l *ConnLimiter) { l.grace = 200 * time.Millisecond })
	for range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	start := time.Now()
	c := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("a new client was not served while silent connections held every slot: %v", err)
	}
	resp.Body.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("answered after %s", took)
	}
}

// TestHardenServerDefaults: zero fields get the defaults, set ones are
// kept, and a ConnState hook already set is still called.
func TestHardenServerDefaults(t *testing.T) {
	var states atomic.Int32
	srv := &http.Server{IdleTimeout: time.Minute, ConnState: func(net.Conn, http.ConnState) { states.Add(1) }}
	lim := HardenServer(srv, 0)
	if srv.ReadHeaderTimeout != DefaultReadHeaderTimeout || srv.IdleTimeout != time.Minute || srv.MaxHeaderBytes != DefaultMaxHeaderBytes {
		t.Errorf("ReadHeaderTimeout %s, IdleTimeout %s, MaxHeaderBytes %d", srv.ReadHeaderTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
	if cap(lim.slots) != DefaultMaxConnections || lim.high != DefaultMaxConnections*7/8 {
		t.Errorf("cap %d, high-water %d", cap(lim.slots), lim.high)
	}
	srv.Handler = ok
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lim.Listener(ln))
	defer srv.Close()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if states.Load() == 0 {
		t.Error("the host's ConnState hook was not called")
	}
}
