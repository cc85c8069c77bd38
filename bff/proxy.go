package bff

import (
	"context"
	"errors"
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

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/tracectx"
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
	b  *BFF
	rp *httputil.ReverseProxy
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
	p := &proxy{b: b}
	p.rp = &httputil.ReverseProxy{
		Rewrite:   p.rewrite,
		Transport: &retryTransport{base: base, refresh: b.core.ForceRefresh},
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
	if !b.apiGuard(w, r) {
		return
	}
	if r.Method == http.MethodTrace || r.Method == http.MethodConnect {
		// TRACE echoes the request - the bearer token included - back to
		// the browser; CONNECT would open a tunnel.
		w.Header().Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
		writeJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not proxied")
		return
	}
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/api/proxy/")
	rawName, rawRest, slash := strings.Cut(rest, "/")
	name, _ := url.PathUnescape(rawName)
	base := b.cfg.Upstreams[strings.ToLower(name)]
	if base == nil {
		writeJSONError(w, http.StatusNotFound, "unknown_upstream",
			"no upstream named "+strconv.Quote(name)+"; configure it with UPSTREAM_<NAME>=https://...")
		return
	}
	name = strings.ToLower(name)
	if sw, ok := w.(*statusWriter); ok {
		start := time.Now()
		defer func() { b.metrics.Proxy(name, sw.status, time.Since(start)) }()
	}
	target, err := upstreamURL(base, rawRest, slash, r.URL.RawQuery)
	if err != nil {
		b.reqLog(w, r).Info("proxy: path refused", "upstream", name, "err", err)
		writeJSONError(w, http.StatusBadRequest, "bad_path", "the API path is not allowed (no . or .. segments, no encoded slashes, ?, # or control characters)")
		return
	}
	if r.ContentLength > MaxProxyBody {
		writeJSONError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the request body is over the 10 MiB limit")
		return
	}
	token, s, ok := b.apiSession(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	access, s, err := b.core.AccessToken(ctx, token, s)
	if err != nil {
		if s == nil && !nextauth.IsUnavailable(err) { // the IdP ended the session
			b.clearSessionCookie(w, r)
		}
		b.writeError(w, r, fetch, err)
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
	h.Set("Authorization", "Bearer "+call.access)
	// The upstream continues the request's trace, as a child of authbff's span.
	call.trace.Inject(h)
	if call.reqID != "" {
		h.Set("X-Request-Id", call.reqID)
	}
	pr.Out.Header = h
}

// modifyProxyResponse drops what an upstream must not set on authbff's
// origin: cookies and CORS grants (authbff's CORS_ORIGINS decide who may
// read its answers); it adds nosniff so an upstream's answer is never
// sniffed into HTML. (Hop-by-hop headers are removed by ReverseProxy.)
func modifyProxyResponse(resp *http.Response) error {
	h := resp.Header
	h.Del("Set-Cookie")
	h.Del("Set-Cookie2")
	h.Del("X-Request-Id") // authbff's own is already set
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			delete(h, k)
		}
	}
	h.Set("X-Content-Type-Options", "nosniff")
	return nil
}

// fail answers a proxy failure: 413 for an over-long streamed body, 504 on
// a timeout, else 502. The upstream's error never reaches the browser.
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
		writeJSONError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the request body is over the 10 MiB limit")
	case errors.Is(r.Context().Err(), context.Canceled):
		log.Debug("proxy: client went away", "upstream", name)
		w.WriteHeader(http.StatusBadGateway)
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		log.Warn("proxy: upstream timed out", "upstream", name, "err", err)
		writeJSONError(w, http.StatusGatewayTimeout, "upstream_timeout", "the API did not answer in time; try again")
	default:
		log.Warn("proxy: upstream unreachable", "upstream", name, "err", err)
		writeJSONError(w, http.StatusBadGateway, "upstream_unreachable", "the API cannot be reached right now; try again")
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
