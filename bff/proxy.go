package bff

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/tracectx"
	"github.com/authbff/authbff/internal/tracing"
)

// MaxProxyBody bounds a proxied request body; larger ones get 413.
const MaxProxyBody = 10 << 20

// proxyHeaders are the only request headers forwarded upstream. Everything
// else, in particular Cookie, Authorization, hop-by-hop and X-Forwarded-*
// headers, is dropped: the upstream sees the user's access token and the
// request's content negotiation, nothing of the browser's credentials.
var proxyHeaders = []string{
	"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control", "Content-Type",
	"Content-Encoding", "Content-Language", "If-Match", "If-None-Match", "If-Modified-Since",
	"If-Unmodified-Since", "If-Range", "Range", "Idempotency-Key", "Traceparent", "Tracestate",
	"User-Agent",
}

// proxy is the API proxy: /api/proxy/<name>/<path> forwarded to the
// UPSTREAM_<NAME> base URL with the session's access token.
type proxy struct {
	b         *BFF
	rp        *httputil.ReverseProxy
	transport *http.Transport // closed by close
	tokens    upstreamTokens  // client tokens of upstreams with a policy (proxy_tokens.go)
	ws        wsState         // upgraded connections (proxy_ws.go)
	nonces    *dpopNonces     // the upstreams' last DPoP-Nonce (proxy_dpop.go)
}

// close drops the upstream connections kept for reuse (BFF.Close).
func (p *proxy) close() {
	p.wsShutdown() // open WebSockets close (1001), bounded (proxy_ws.go)
	p.transport.CloseIdleConnections()
}

// proxyCall is what one proxied request carries to Rewrite and the
// transport, through its context.
type proxyCall struct {
	name   string
	target *url.URL
	token  string // the session cookie token, for a refresh
	s      *session.Session
	access string
	retry  bool // idempotent and bodiless: may be retried after a refresh
	reqID  string
	trace  tracectx.Context
	b      *BFF
	// again gets a new token after the upstream refused rejected, for an
	// upstream with a token policy (proxy_tokens.go); nil otherwise.
	again func(ctx context.Context, rejected string) (string, error)
	dpop  *ecdsa.PrivateKey // the token's DPoP key (proxy_dpop.go: upstreamDPoP); nil: bearer
}

// log returns the call's request-scoped logger (made on use: most proxied
// requests log nothing).
func (c *proxyCall) log() *slog.Logger {
	return c.b.log.With("request_id", c.reqID, tracectx.LogKey, c.trace.TraceID.String())
}

type proxyCallKey struct{}

func newProxy(b *BFF) *proxy {
	for name, u := range b.cfg.Upstreams {
		if u.Scheme == "http" && !loopbackHost(u.Host) {
			b.log.Warn("UPSTREAM_"+strings.ToUpper(name)+" is plain http on another host: the user's bearer token would cross the network in clear; use https",
				"upstream", name, "host", u.Host)
		}
	}
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		// Keep a warm connection per concurrent request: a pool smaller than
		// the load churns TCP connections to the upstream on every burst.
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 512,
		ForceAttemptHTTP2:   true,
	}
	p := &proxy{b: b, transport: base, nonces: &dpopNonces{}}
	var rt http.RoundTripper = base
	if b.tracer != nil {
		// A client span per attempt, sent upstream as the traceparent's parent.
		rt = tracing.Transport(base, b.tracer, "upstream")
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:   p.rewrite,
		Transport: &retryTransport{base: dpopNonceTransport{base: rt, nonces: p.nonces}, refresh: b.core.ForceRefresh, nonces: p.nonces},
		// 0: ReverseProxy still flushes at once every response of unknown
		// length (chunked, text/event-stream): streams are not held back,
		// and a sized answer goes out in one write.
		FlushInterval:  0,
		ModifyResponse: modifyProxyResponse,
		BufferPool:     newCopyBuffers(),
		ErrorHandler:   p.fail,
		ErrorLog:       slog.NewLogLogger(b.log.Handler(), slog.LevelWarn),
	}
	return p
}

// serve handles /api/proxy/<name>[/<path>]. The checks run in this order,
// and none of them touches the upstream: X-CSRF header and origin (401/403),
// upstream name (404), path (400), body size (413), session (401, or 503 on
// a store fault).
func (p *proxy) serve(w http.ResponseWriter, r *http.Request) {
	b := p.b
	if len(b.cfg.Policies) > 0 && r.Header.Get("Upgrade") != "" && p.serveUpgrade(w, r) {
		return // an upstream that takes WebSockets (proxy_ws.go)
	}
	if !b.apiGuard(w, r) {
		return
	}
	if r.Method == http.MethodTrace || r.Method == http.MethodConnect {
		// TRACE echoes the request - the bearer token included - back to
		// the browser; CONNECT would open a tunnel.
		w.Header().Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
		b.refuse(w, r, nextauth.CodeMethodNotAllowed, r.Method+" is not proxied")
		return
	}
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/api/proxy/")
	rawName, rawRest, slash := strings.Cut(rest, "/")
	name, _ := url.PathUnescape(rawName)
	base := b.cfg.Upstreams[strings.ToLower(name)]
	if base == nil {
		b.refuse(w, r, nextauth.CodeUnknownUpstream,
			"no upstream named "+strconv.Quote(name)+"; configure it with UPSTREAM_<NAME>=https://...")
		return
	}
	name = strings.ToLower(name)
	if b.tracer != nil {
		trace.SpanFromContext(r.Context()).SetAttributes(tracing.KeyUpstream.String(name))
	}
	if sw, ok := w.(*statusWriter); ok {
		start := time.Now()
		defer func() { b.metrics.Proxy(name, sw.status, time.Since(start)) }()
	}
	target, err := upstreamURL(base, rawRest, slash, r.URL.RawQuery)
	if err != nil {
		b.reqLog(w, r).Info("proxy: path refused", "upstream", name, "err", err)
		b.refuse(w, r, nextauth.CodeBadPath, "")
		return
	}
	if r.ContentLength > MaxProxyBody {
		b.refuse(w, r, nextauth.CodeBodyTooLarge, "")
		return
	}
	if pol := b.cfg.Policies[name]; pol != nil {
		p.servePolicy(w, r, pol, &proxyCall{name: name, target: target, retry: idempotent(r.Method) && r.ContentLength == 0,
			reqID: w.Header().Get("X-Request-Id"), trace: traceOf(w, r), b: b})
		return
	}
	token, s, ok := b.apiSession(w, r)
	if !ok {
		return
	}
	if !b.upstreamAllowed(w, r, name, s) {
		return
	}
	ctx := r.Context()
	access, s, err := b.core.AccessToken(ctx, token, s)
	if err != nil {
		b.writeError(w, r, fetch, err) // clears the cookie of a session the IdP ended
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, MaxProxyBody)
	}
	call := &proxyCall{
		name: name, target: target, token: token, s: s, access: access,
		retry: idempotent(r.Method) && r.ContentLength == 0,
		reqID: w.Header().Get("X-Request-Id"), trace: traceOf(w, r), b: b,
	}
	if s.Data.DPoPKey != "" {
		call.dpop = dpopKeyOf(s)
	}
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(ctx, proxyCallKey{}, call)))
}

// rewrite builds the upstream request: the target URL, the allow-listed
// headers and the bearer token.
func (p *proxy) rewrite(pr *httputil.ProxyRequest) {
	call := pr.In.Context().Value(proxyCallKey{}).(*proxyCall)
	u := *call.target
	pr.Out.URL = &u
	pr.Out.Host = ""
	h := make(http.Header, len(proxyHeaders)+2)
	for _, k := range proxyHeaders {
		if vs := pr.In.Header.Values(k); len(vs) > 0 {
			h[k] = slices.Clone(vs)
		}
	}
	if call.access != "" { // "" only for an upstream whose policy sends no token
		h.Set("Authorization", "Bearer "+call.access)
		if call.dpop != nil {
			call.signDPoP(h, pr.Out.Method, &u, call.access, p.nonces.get(call.name))
		}
	}
	// The upstream continues the request's trace, as a child of authbff's span.
	call.trace.Inject(h)
	if call.reqID != "" {
		h.Set("X-Request-Id", call.reqID)
	}
	pr.Out.Header = h
	// A chunked request's Trailer declaration (and its trailers) is not
	// forwarded: trailers are headers outside the allow-list.
	pr.Out.Trailer = nil
}

// proxyResponseHeaders are the only upstream response headers the browser
// gets (besides Content-Length and the hop-by-hop handling of ReverseProxy).
// An upstream speaks on authbff's origin, so anything that acts on the
// origin rather than on the answer is dropped: Set-Cookie, Access-Control-*
// (authbff's CORS_ORIGINS decide who may read its answers), Clear-Site-Data,
// Refresh, Strict-Transport-Security, Content-Security-Policy, Alt-Svc,
// Permissions-Policy, Origin-Agent-Cluster and the like. Kept: what
// describes the body (Content-*), caching and validators, what a client
// acts on (Location - an API's 201 or redirect, passed as sent and
// followed by fetch, never by a page since every call needs X-CSRF -,
// Retry-After, WWW-Authenticate, Allow, Link for pagination), API
// lifecycle and rate-limit headers, and trace headers. The upstream's
// X-Request-Id is dropped too: authbff's own is already set.
var proxyResponseHeaders = map[string]bool{
	"Content-Type": true, "Content-Length": true, "Content-Encoding": true, "Content-Language": true,
	"Content-Range": true, "Content-Disposition": true, "Accept-Ranges": true,
	"Cache-Control": true, "Expires": true, "Pragma": true, "Age": true, "Vary": true, "Date": true,
	"Etag": true, "Last-Modified": true,
	"Location": true, "Retry-After": true, "Www-Authenticate": true, "Allow": true, "Link": true,
	"Deprecation": true, "Sunset": true,
	"Traceparent": true, "Tracestate": true, "Traceresponse": true, "Server-Timing": true,
}

// proxyResponseHeaderPrefixes extend proxyResponseHeaders: the rate-limit
// headers (the IETF draft's RateLimit, RateLimit-Policy, RateLimit-Limit,
// ... and the common X-RateLimit-*), in canonical form.
var proxyResponseHeaderPrefixes = []string{"Ratelimit", "X-Ratelimit-"}

// allowedResponseHeader reports whether an upstream response header (in
// canonical form) reaches the browser.
func allowedResponseHeader(k string) bool {
	if proxyResponseHeaders[k] {
		return true
	}
	for _, p := range proxyResponseHeaderPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// filterHeader deletes from h every header allowedResponseHeader refuses.
func filterHeader(h http.Header) {
	for k := range h {
		if !allowedResponseHeader(k) {
			delete(h, k)
		}
	}
}

// modifyProxyResponse passes only the allow-listed headers
// (proxyResponseHeaders) and trailers to the browser and adds nosniff, so
// that an upstream's answer is never sniffed into HTML. (Hop-by-hop headers
// are removed by ReverseProxy.)
func modifyProxyResponse(resp *http.Response) error {
	filterHeader(resp.Header)
	filterHeader(resp.Trailer) // the announced ones
	resp.Header.Set("X-Content-Type-Options", "nosniff")
	cutOnSessionEnd(resp) // an event stream ends with its session (proxy_sse.go)
	if resp.StatusCode != http.StatusSwitchingProtocols && resp.Body != nil && resp.Body != http.NoBody &&
		(resp.ContentLength < 0 || resp.ProtoMajor >= 2) {
		// The transport fills resp.Trailer while the body is read (up to
		// Close), adding trailers that were never announced; ReverseProxy
		// sends them all after the body. (HTTP/1.1 trailers need a chunked
		// body: a sized one has none.)
		resp.Body = &trailerFilter{ReadCloser: resp.Body, resp: resp}
	}
	return nil
}

// trailerFilter applies the response header allow-list to the trailers once
// the body is closed, before ReverseProxy copies them.
type trailerFilter struct {
	io.ReadCloser
	resp *http.Response
}

// Close closes the body, which completes resp.Trailer, then filters it.
func (t *trailerFilter) Close() error {
	err := t.ReadCloser.Close()
	filterHeader(t.resp.Trailer)
	return err
}

// fail answers a proxy failure (statuses from the one table, errors.go):
// body_too_large for an over-long streamed body, upstream_timeout on a
// timeout, client_gone when the browser left, else upstream_unreachable. The upstream's error never reaches the browser.
func (p *proxy) fail(w http.ResponseWriter, r *http.Request, err error) {
	call, _ := r.Context().Value(proxyCallKey{}).(*proxyCall)
	log := p.b.log
	name := ""
	if call != nil {
		log, name = call.log(), call.name
	}
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		writeCode(w, nextauth.CodeBodyTooLarge)
	case errors.Is(r.Context().Err(), context.Canceled):
		log.Debug("proxy: client went away", "upstream", name)
		writeCode(w, nextauth.CodeClientGone) // counted; nobody reads it
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		log.Warn("proxy: upstream timed out", "upstream", name, "err", err)
		writeCode(w, nextauth.CodeUpstreamTimeout)
	default:
		log.Warn("proxy: upstream unreachable", "upstream", name, "err", err)
		writeCode(w, nextauth.CodeUpstreamUnreachable)
	}
}

// copyBuffers recycles the 32 KiB buffers ReverseProxy copies bodies with
// (without a pool it allocates one per request).
type copyBuffers struct{ pool *sync.Pool }

func newCopyBuffers() copyBuffers {
	return copyBuffers{pool: &sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (c copyBuffers) Get() []byte  { return *(c.pool.Get().(*[]byte)) }
func (c copyBuffers) Put(b []byte) { c.pool.Put(&b) }

// idempotent reports whether a method may be retried (RFC 9110 9.2.2).
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}
