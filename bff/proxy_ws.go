package bff

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/tracing"
)

// WebSockets (and other upgrades) through the proxy, for an upstream with
// UpstreamPolicy.WebSocket. A browser cannot add X-CSRF to a WebSocket, so
// the upgrade needs a live session and an Origin exactly equal to URL's
// origin (cross-site WebSocket hijacking); the token is made fresh before
// the upgrade and sent as Authorization: Bearer - or, for a DPoP-bound
// session's user token or a DPoP provider's client token, as DPoP with a
// proof for the handshake's GET
// (upstreamDPoP; a use_dpop_nonce challenge is answered once, as for any
// call: dpopNonceTransport). The open connection is
// closed (close code 4401) when the session ends - on any instance: the
// Manager's change notifications, and a re-read every wsCheckEvery - and
// with 1001 when the BFF closes.

// wsCheckEvery is how often an open socket re-reads its session, besides
// the change notifications (the bound on noticing an end when the store
// has no change feed, or while it is down).
const wsCheckEvery = 2 * time.Second

// wsDrainWait bounds how long Close waits for open sockets to close.
const wsDrainWait = 5 * time.Second

// Close codes sent to the browser.
const (
	wsCloseSessionEnded = 4401 // the session ended: sign in again
	wsCloseGoingAway    = 1001 // authbff is shutting down
)

// wsRequestHeaders are the handshake headers passed upstream (besides
// proxyHeaders, Upgrade and Connection); Cookie never is.
var wsRequestHeaders = []string{"Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions"}

// wsResponseHeaders are the upstream's 101 headers passed to the browser.
var wsResponseHeaders = []string{"Sec-Websocket-Accept", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions"}

// wsState is the proxy's upgraded connections. The zero value is ready.
type wsState struct {
	once    sync.Once
	tr      *http.Transport // HTTP/1.1 only: an upgrade cannot ride HTTP/2
	mu      sync.Mutex
	closing bool
	done    chan struct{} // closed by shutdown
	open    sync.WaitGroup
}

func (p *proxy) wsInit() {
	p.ws.once.Do(func() {
		tr := p.transport.Clone()
		tr.ForceAttemptHTTP2 = false
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		p.ws.tr = tr
		p.ws.done = make(chan struct{})
	})
}

// shutdown closes every open socket (1001) and waits for them, at most
// wsDrainWait.
func (p *proxy) wsShutdown() {
	p.wsInit()
	p.ws.mu.Lock()
	if !p.ws.closing {
		p.ws.closing = true
		close(p.ws.done)
	}
	p.ws.mu.Unlock()
	waited := make(chan struct{})
	go func() { p.ws.open.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(wsDrainWait):
	}
	p.ws.tr.CloseIdleConnections()
}

// serveUpgrade handles an upgrade request to an upstream that takes them;
// false when the upstream does not (serve then refuses it as any request).
func (p *proxy) serveUpgrade(w http.ResponseWriter, r *http.Request) bool {
	b := p.b
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/api/proxy/")
	rawName, rawRest, slash := strings.Cut(rest, "/")
	name, _ := url.PathUnescape(rawName)
	name = strings.ToLower(name)
	pol := b.cfg.Policies[name]
	if pol == nil || !pol.ws {
		return false
	}
	if r.Method != http.MethodGet {
		b.refuse(w, r, nextauth.CodeMethodNotAllowed, "an upgrade is a GET")
		return true
	}
	if r.Header.Get("Origin") != b.core.Origin() {
		// Exactly the app's origin: CORS_ORIGINS do not open WebSockets.
		b.refuse(w, r, nextauth.CodeCrossOrigin, "WebSockets open only from the app's own origin")
		return true
	}
	target, err := upstreamURL(b.cfg.Upstreams[name], rawRest, slash, r.URL.RawQuery)
	if err != nil {
		b.refuse(w, r, nextauth.CodeBadPath, "")
		return true
	}
	ctx := r.Context()
	token, s, _, err := b.core.LoadSession(ctx, b.cookieRequest(w, r))
	if err != nil {
		b.writeError(w, r, fetch, err)
		return true
	}
	if s == nil {
		b.refuse(w, r, nextauth.CodeUnauthenticated, "a WebSocket needs a session")
		return true
	}
	if !b.upstreamAllowed(w, r, name, s) {
		return true
	}
	access, s, err := b.upstreamAccess(ctx, pol, token, s, "")
	if err != nil {
		b.writeError(w, r, fetch, err)
		return true
	}
	p.wsInit()
	p.ws.mu.Lock()
	if p.ws.closing {
		p.ws.mu.Unlock()
		b.refuse(w, r, nextauth.CodeDraining, "")
		return true
	}
	p.ws.open.Add(1)
	p.ws.mu.Unlock()
	defer p.ws.open.Done()
	start := time.Now()
	var key *ecdsa.PrivateKey
	if access != "" {
		key = b.upstreamDPoP(pol, s)
	}
	status := p.upgrade(w, r, name, target, token, s, access, key)
	b.metrics.Proxy(name, status, time.Since(start))
	return true
}

// upgrade does the handshake upstream, then relays both ways until either
// side closes, the session ends or the BFF closes. It returns the status
// answered.
func (p *proxy) upgrade(w http.ResponseWriter, r *http.Request, name string, target *url.URL, token string, s *session.Session, access string, key *ecdsa.PrivateKey) int {
	b := p.b
	uctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	call := &proxyCall{name: name, target: target, token: token, s: s, access: access,
		reqID: w.Header().Get("X-Request-Id"), trace: traceOf(w, r), b: b, dpop: key}
	uctx = context.WithValue(uctx, proxyCallKey{}, call) // for dpopNonceTransport
	out, _ := http.NewRequestWithContext(uctx, http.MethodGet, target.String(), nil)
	for _, k := range slices.Concat(proxyHeaders, wsRequestHeaders) {
		if vs := r.Header.Values(k); len(vs) > 0 {
			out.Header[k] = slices.Clone(vs)
		}
	}
	out.Header.Set("Connection", "Upgrade")
	out.Header.Set("Upgrade", r.Header.Get("Upgrade"))
	if access != "" {
		out.Header.Set("Authorization", "Bearer "+access)
	}
	if id := w.Header().Get("X-Request-Id"); id != "" {
		out.Header.Set("X-Request-Id", id)
	}
	traceOf(w, r).Inject(out.Header)
	if key != nil {
		call.signDPoP(out.Header, out.Method, out.URL, access, p.nonces.get(name))
	}
	var rt http.RoundTripper = p.ws.tr
	if b.tracer != nil {
		rt = tracing.Transport(rt, b.tracer, "upstream") // the handshake's client span
	}
	resp, err := dpopNonceTransport{base: rt, nonces: p.nonces}.RoundTrip(out)
	if err != nil {
		b.log.Warn("proxy: upstream unreachable for an upgrade", "upstream", name, "err", err)
		writeCode(w, nextauth.CodeUpstreamUnreachable)
		return statusOf(nextauth.CodeUpstreamUnreachable)
	}
	back, ok := resp.Body.(io.ReadWriteCloser)
	if resp.StatusCode != http.StatusSwitchingProtocols || !ok {
		defer resp.Body.Close()
		filterHeader(resp.Header)
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, io.LimitReader(resp.Body, MaxProxyBody))
		return resp.StatusCode
	}
	defer back.Close()
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		b.log.Warn("proxy: cannot take over the connection for an upgrade", "upstream", name, "err", err)
		writeCode(w, nextauth.CodeInternal)
		return statusOf(nextauth.CodeInternal)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Time{}) // the server's read/write timeouts are for requests
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: " + headerValue(resp.Header.Get("Upgrade")) + "\r\nConnection: Upgrade\r\n")
	for _, k := range wsResponseHeaders {
		for _, v := range resp.Header.Values(k) {
			brw.WriteString(k + ": " + headerValue(v) + "\r\n")
		}
	}
	brw.WriteString("\r\n")
	if err := brw.Flush(); err != nil {
		return http.StatusSwitchingProtocols
	}
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Peek(n)
		if _, err := back.Write(early); err != nil {
			return http.StatusSwitchingProtocols
		}
	}
	b.metrics.WebSocket(name, 1)
	defer b.metrics.WebSocket(name, -1)
	p.relay(conn, brw.Reader, back, name, token, s)
	return http.StatusSwitchingProtocols
}

// relay copies both ways and watches the session.
func (p *proxy) relay(conn net.Conn, fromClient *bufio.Reader, back io.ReadWriteCloser, name, token string, s *session.Session) {
	b := p.b
	fw := &frameWriter{w: conn}
	toClient := make(chan struct{})
	toBack := make(chan struct{})
	go func() { _, _ = io.Copy(fw, back); close(toClient) }()
	go func() { _, _ = io.Copy(back, fromClient); close(toBack) }()
	changed := make(chan struct{}, 1)
	stop := b.core.Sessions().Subscribe(s.ID, func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	defer stop()
	tick := time.NewTicker(wsCheckEvery)
	defer tick.Stop()
	closeWith := func(code int, reason string) {
		back.Close()
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second)) // a stalled browser cannot hold us
		<-toClient                                             // nothing more is written to the browser
		if fw.atBoundary() {
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = conn.Write(closeFrame(code, reason))
		}
	}
	for {
		select {
		case <-toClient:
			return
		case <-toBack:
			return
		case <-p.ws.done:
			closeWith(wsCloseGoingAway, "server shutting down")
			return
		case <-changed:
		case <-tick.C:
		}
		if !p.sessionLive(token) {
			b.log.Info("proxy: session ended; closing its WebSocket", "upstream", name)
			closeWith(wsCloseSessionEnded, "session ended")
			return
		}
	}
}

// sessionLive re-reads the session from the store: false only when it is
// gone (an outage keeps the socket open).
func (p *proxy) sessionLive(token string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), wsCheckEvery)
	defer cancel()
	_, err := p.b.core.Sessions().LoadFresh(ctx, token)
	return !errors.Is(err, session.ErrNotFound)
}

// headerValue drops CR and LF from an upstream's header value.
func headerValue(v string) string {
	return strings.NewReplacer("\r", "", "\n", "").Replace(v)
}

// closeFrame is an unmasked (server to client) close frame.
func closeFrame(code int, reason string) []byte {
	payload := binary.BigEndian.AppendUint16(nil, uint16(code))
	payload = append(payload, reason...)
	return append([]byte{0x88, byte(len(payload))}, payload...)
}

// frameWriter passes the upstream's bytes to the browser and follows the
// WebSocket frame boundaries (RFC 6455 5.2), so that a close frame of
// authbff's is only ever sent between two frames.
type frameWriter struct {
	w       io.Writer
	mu      sync.Mutex
	hdr     []byte // the current frame's header bytes so far
	payload uint64 // payload bytes still to come in the current frame
}

func (f *frameWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	f.mu.Lock()
	f.track(p[:n])
	f.mu.Unlock()
	return n, err
}

func (f *frameWriter) track(p []byte) {
	for len(p) > 0 {
		if f.payload > 0 {
			k := min(f.payload, uint64(len(p)))
			f.payload -= k
			p = p[k:]
			continue
		}
		f.hdr = append(f.hdr, p[0])
		p = p[1:]
		if len(f.hdr) < 2 {
			continue
		}
		need := 2
		l7 := f.hdr[1] & 0x7f
		switch l7 {
		case 126:
			need += 2
		case 127:
			need += 8
		}
		if f.hdr[1]&0x80 != 0 {
			need += 4
		}
		if len(f.hdr) < need {
			continue
		}
		switch l7 {
		case 126:
			f.payload = uint64(binary.BigEndian.Uint16(f.hdr[2:4]))
		case 127:
			f.payload = binary.BigEndian.Uint64(f.hdr[2:10])
		default:
			f.payload = uint64(l7)
		}
		f.hdr = f.hdr[:0]
	}
}

func (f *frameWriter) atBoundary() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.payload == 0 && len(f.hdr) == 0
}
