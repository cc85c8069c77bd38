package bff

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/authbff/authbff/internal/nextauth"
)

// routes is the dispatcher of everything Handler serves. It matches the few
// fixed routes by prefix and action, without a router: the paths are
// matched exactly as sent (never cleaned or redirected), which the proxy's
// traversal checks and the SPA guard rely on.
func (b *BFF) routes() http.Handler {
	return b.middleware(http.HandlerFunc(b.dispatch))
}

func (b *BFF) dispatch(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	base := b.cfg.BasePath
	switch {
	case len(p) > len(base) && p[len(base)] == '/' && p[:len(base)] == base:
		if b.serveAuth(w, r, p[len(base)+1:]) {
			return
		}
	case strings.HasPrefix(p, "/api/proxy/"):
		b.proxy.serve(w, r)
		return
	case p == "/healthz" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"}, false)
		return
	case p == "/readyz" && r.Method == http.MethodGet:
		b.handleReady(w, r)
		return
	case b.devidp != nil && strings.HasPrefix(p, devIdPPath+"/"):
		b.serveDevIdP(w, r)
		return
	}
	b.noRoute(w, r)
}

// serveAuth serves one NextAuth action (the path after the base path) and
// reports whether the action and method were known.
func (b *BFF) serveAuth(w http.ResponseWriter, r *http.Request, action string) bool {
	name, param, _ := strings.Cut(action, "/")
	if strings.Contains(param, "/") {
		return false
	}
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	switch {
	case name == "providers" && param == "" && get:
		writeJSON(w, http.StatusOK, b.core.Providers(), false)
	case name == "csrf" && param == "" && get:
		noCache(w)
		writeJSON(w, http.StatusOK, map[string]string{"csrfToken": b.core.CSRFToken(b.request(w, r))}, false)
	case name == "session" && param == "" && get:
		b.respondSession(w, r, b.cfg.RefreshOnSession)
	case name == "session" && param == "" && post:
		b.handleSessionUpdate(w, r)
	case name == "signin" && get:
		b.renderPage(w, r, http.StatusOK, "signin", b.core.SigninPage(b.request(w, r)))
	case name == "signin" && param != "" && post:
		b.handleSignin(w, r, param)
	case name == "callback" && param != "" && (get || post):
		b.handleCallback(w, r, param)
	case name == "signout" && param == "" && get:
		b.renderPage(w, r, http.StatusOK, "signout", b.core.SignoutPage(b.request(w, r)))
	case name == "signout" && param == "" && post:
		b.handleSignout(w, r)
	case name == "error" && param == "" && get:
		b.handleErrorPage(w, r)
	case name == "verify-request" && param == "" && get:
		b.renderPage(w, r, http.StatusOK, "verify", b.core.VerifyPage())
	case name == "_log" && param == "" && post:
		b.handleLog(w, r)
	case name == "sessions" && param == "" && get:
		b.handleListSessions(w, r)
	case name == "sessions" && param != "" && r.Method == http.MethodDelete:
		b.handleDeleteSession(w, r, param)
	case name == "backchannel-logout" && param != "" && post:
		b.handleBackchannelLogout(w, r, param)
	case name == "jwks" && param == "" && get:
		b.serveJWKS(w, r)
	default:
		return false
	}
	return true
}

// readyTimeout bounds /readyz's store check.
const readyTimeout = 2 * time.Second

func (b *BFF) handleReady(w http.ResponseWriter, r *http.Request) {
	if b.draining.Load() {
		writeErrorBody(w, nextauth.CodeDraining, map[string]string{"status": "draining"}, false)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := b.Ready(ctx); err != nil {
		b.log.Warn("readiness: session store unreachable", "err", err)
		writeErrorBody(w, nextauth.CodeStoreUnavailable, map[string]string{"status": "unavailable", "store": "unreachable"}, false)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "store": "ok"}, false)
}

// noRoute is every path no route takes: the federated sign-out's return,
// the protected-path guard, then a JSON 400/404 for API paths and the SPA
// for the rest.
func (b *BFF) noRoute(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if b.canonicalHost(w, r) || b.returnAfterSignout(w, r) || !b.guard(w, r) {
		return
	}
	if p == b.cfg.BasePath || hasPathPrefix(p, b.cfg.BasePath) {
		b.refuse(w, r, nextauth.CodeBadRequest,
			fmt.Sprintf("%s %s is not a NextAuth action; see %s/providers, /csrf, /session, /signin, /signout", r.Method, p, b.cfg.BasePath))
		return
	}
	if hasPathPrefix(p, "/api") || b.spa == nil {
		b.refuse(w, r, nextauth.CodeNotFound, "no API route "+p)
		return
	}
	b.spa.ServeHTTP(w, r)
}

func hasPathPrefix(p, prefix string) bool {
	return len(p) > len(prefix) && p[:len(prefix)] == prefix && p[len(prefix)] == '/'
}

// loopbackHost reports whether a URL's host[:port] names this machine:
// localhost or a loopback IP, with or without a port.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
