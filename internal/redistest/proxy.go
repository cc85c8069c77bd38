package redistest

import (
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to a Redis address and can freeze them:
// the path of one client hangs (nothing passes either way, no connection
// breaks) while others reach the server. Unlike SigStop, which hangs the
// server for every client, it stands for one instance's network or a stalled
// instance.
type Proxy struct {
	// Addr is the proxy's host:port; point the client there.
	Addr string

	t      testing.TB
	l      net.Listener
	target string

	mu     sync.Mutex
	cond   *sync.Cond
	frozen bool
	conns  map[net.Conn]struct{}
	closed bool
}

// StartProxy listens on a free loopback port and forwards every connection
// to target until the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	SkipShort(t)
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: proxy listen: %v", err)
	}
	p := &Proxy{Addr: l.Addr().String(), t: t, l: l, target: target, conns: make(map[net.Conn]struct{})}
	p.cond = sync.NewCond(&p.mu)
	t.Cleanup(p.close)
	go p.accept()
	return p
}

// Freeze stops forwarding: bytes already read are held, nothing more is
// written either way, and no connection is closed.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	p.frozen = true
	p.mu.Unlock()
}

// Thaw resumes forwarding, held bytes first.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	p.frozen = false
	p.cond.Broadcast()
	p.mu.Unlock()
}

func (p *Proxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c, u) {
			return
		}
		go p.pipe(c, u)
		go p.pipe(u, c)
	}
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

// pipe copies from src to dst, waiting while frozen before each write; when
// either side fails both are closed.
func (p *Proxy) pipe(src, dst net.Conn) {
	defer src.Close()
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.frozen && !p.closed {
				p.cond.Wait()
			}
			closed := p.closed
			p.mu.Unlock()
			if closed {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.l.Close()
}
