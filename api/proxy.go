package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/internal/session"
)

// maxProxyBody bounds a proxied request body; larger ones get 413.
const maxProxyBody = 10 << 20

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
	a  *App
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
	log    *slog.Logger
}

type proxyCallKey struct{}

func newProxy(a *App) *proxy {
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		ForceAttemptHTTP2:     true,
	}
	p := &proxy{a: a}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      &retryTransport{base: base, refresh: proxyRefresh(a)},
		FlushInterval:  -1,
		ModifyResponse: modifyProxyResponse,
		ErrorHandler:   p.fail,
		ErrorLog:       slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	return p
}

// serve handles /api/proxy/<name>[/<path>]. The checks run in this order,
// and none of them touches the upstream: X-CSRF header and origin (401/403),
// upstream name (404), path (400), body size (413), session (401, or 503 on
// a store fault).
func (p *proxy) serve(c *gin.Context) {
	a := p.a
	if !a.apiGuard(c) {
		return
	}
	rest := strings.TrimPrefix(c.Request.URL.EscapedPath(), "/api/proxy/")
	rawName, rawRest, slash := strings.Cut(rest, "/")
	name, _ := url.PathUnescape(rawName)
	base := a.cfg.Upstreams[strings.ToLower(name)]
	if base == nil {
		jsonError(c, http.StatusNotFound, "unknown_upstream",
			"no upstream named "+strconv.Quote(name)+"; configure it with UPSTREAM_<NAME>=https://...")
		return
	}
	target, err := upstreamURL(base, rawRest, slash, c.Request.URL.RawQuery)
	if err != nil {
		a.reqLog(c).Info("proxy: path refused", "upstream", name, "err", err)
		jsonError(c, http.StatusBadRequest, "bad_path", "the API path is not allowed (no . or .. segments, no encoded slashes)")
		return
	}
	if c.Request.ContentLength > maxProxyBody {
		jsonError(c, http.StatusRequestEntityTooLarge, "body_too_large", "the request body is over the 10 MiB limit")
		return
	}
	token, s, ok := a.apiSession(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if s, err = a.refreshIfDue(ctx, token, s); err != nil {
		a.storeUnavailable(c, err)
		return
	}
	if s == nil { // the IdP refused the refresh: the session is over
		a.clearCookie(c, a.names.Session)
		jsonError(c, http.StatusUnauthorized, "unauthenticated", "the session has ended: sign in again")
		return
	}
	access := s.Data.Tokens.AccessToken
	if access == "" {
		jsonError(c, http.StatusUnauthorized, "no_access_token", "the session holds no access token: sign in again")
		return
	}
	req := c.Request
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = http.MaxBytesReader(c.Writer, req.Body, maxProxyBody)
	}
	call := &proxyCall{
		name: name, target: target, token: token, s: s, access: access,
		retry: idempotent(req.Method) && req.ContentLength == 0,
		reqID: c.Writer.Header().Get("X-Request-Id"), log: a.reqLog(c),
	}
	p.rp.ServeHTTP(c.Writer, req.WithContext(context.WithValue(ctx, proxyCallKey{}, call)))
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
	if call.reqID != "" {
		h.Set("X-Request-Id", call.reqID)
	}
	pr.Out.Header = h
}

// modifyProxyResponse drops what an upstream must not set on authbff's
// origin: cookies. (Hop-by-hop headers are removed by ReverseProxy.)
func modifyProxyResponse(resp *http.Response) error {
	resp.Header.Del("Set-Cookie")
	resp.Header.Del("Set-Cookie2")
	resp.Header.Del("X-Request-Id") // authbff's own is already set
	return nil
}

// fail answers a proxy failure: 413 for an over-long streamed body, 504 on
// a timeout, else 502. The upstream's error never reaches the browser.
func (p *proxy) fail(w http.ResponseWriter, r *http.Request, err error) {
	call, _ := r.Context().Value(proxyCallKey{}).(*proxyCall)
	log := p.a.log
	name := ""
	if call != nil {
		log, name = call.log, call.name
	}
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		writeProxyError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the request body is over the 10 MiB limit")
	case errors.Is(r.Context().Err(), context.Canceled):
		log.Debug("proxy: client went away", "upstream", name)
		w.WriteHeader(http.StatusBadGateway)
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		log.Warn("proxy: upstream timed out", "upstream", name, "err", err)
		writeProxyError(w, http.StatusGatewayTimeout, "upstream_timeout", "the API did not answer in time; try again")
	default:
		log.Warn("proxy: upstream unreachable", "upstream", name, "err", err)
		writeProxyError(w, http.StatusBadGateway, "upstream_unreachable", "the API cannot be reached right now; try again")
	}
}

// writeProxyError writes the {"error","message"} shape on a plain
// ResponseWriter (ReverseProxy's error handler has no gin.Context).
func writeProxyError(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "message": message})
}

// idempotent reports whether a method may be retried (RFC 9110 9.2.2).
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}
