package bff

import (
	"net"
	"net/http"
	"strings"

	"github.com/authbff/authbff/internal/nextauth"
)

// spaRoutes is what the spa package's handler tells about a request: the
// page it would serve (Resolve) and the route of a path (Route), so that
// ProtectedPaths decides on the page and not on the spelling.
type spaRoutes interface {
	Resolve(r *http.Request) (route string, ok bool)
	Route(p string) (route string, ok bool)
}

// protected reports whether a path needs a session: a PROTECTED_PATHS
// pattern ending in "*" matches by prefix ("/admin/*" also matches
// "/admin", where admin/index.html is served), any other exactly.
func (b *BFF) protected(p string) bool {
	for _, pat := range b.protectedPaths {
		if matchProtected(pat, p) {
			return true
		}
	}
	return false
}

// matchProtected reports whether path p matches the pattern pat.
func matchProtected(pat, p string) bool {
	if prefix, ok := strings.CutSuffix(pat, "*"); ok {
		return strings.HasPrefix(p, prefix) || (strings.HasSuffix(prefix, "/") && p == strings.TrimSuffix(prefix, "/"))
	}
	return p == pat
}

// normalizeProtected writes exact PROTECTED_PATHS patterns as the routes
// the SPA serves them at (/account.html -> /account), so that a pattern
// never names a spelling that is only ever redirected.
func (b *BFF) normalizeProtected() {
	b.protectedPaths = append([]string(nil), b.cfg.ProtectedPaths...)
	b.protectedGroups = make([][]string, len(b.protectedPaths))
	for i, entry := range b.protectedPaths {
		b.protectedPaths[i], b.protectedGroups[i] = splitPathGroups(entry)
	}
	sr, ok := b.spa.(spaRoutes)
	if !ok {
		return
	}
	for i, pat := range b.protectedPaths {
		if strings.HasSuffix(pat, "*") {
			continue
		}
		if route, ok := sr.Route(pat); ok && route != pat {
			b.log.Warn("PROTECTED_PATHS: the SPA serves this page at another route; protecting that route", "pattern", pat, "route", route)
			b.protectedPaths[i] = route
		}
	}
}

// guard enforces PROTECTED_PATHS before anything is served: without a
// session a navigation is sent home (like the tutorial's
// getServerSideProps), a fetch under /api/ gets 401 JSON. It reports whether
// the request may go on.
func (b *BFF) guard(w http.ResponseWriter, r *http.Request) bool {
	// Decide on the page the SPA would serve (//x, /./x, /y/../x, /x.html,
	// /x/ and %2f spellings all name the route /x), not on the raw path.
	p := r.URL.Path
	if sr, ok := b.spa.(spaRoutes); ok {
		if route, ok := sr.Resolve(r); ok {
			p = route
		}
	}
	if !b.protected(p) && !b.protected(r.URL.Path) {
		return true
	}
	_, s, _, err := b.core.LoadSession(r.Context(), b.request(w, r))
	if err != nil {
		b.writeError(w, r, b.pageMode(r), err)
		return false
	}
	if s != nil && !b.allowedPath(s, p, r.URL.Path) {
		b.denyPath(w, r)
		return false
	}
	if s != nil {
		w.Header().Set("Cache-Control", "private, no-cache")
		return true
	}
	if hasPathPrefix(r.URL.Path, "/api") {
		b.refuse(w, r, nextauth.CodeUnauthenticated, "")
		return false
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, b.core.Origin()+"/", http.StatusFound)
	return false
}

// pageMode is navigation for page loads, fetch for API paths.
func (b *BFF) pageMode(r *http.Request) answerMode {
	if hasPathPrefix(r.URL.Path, "/api") {
		return fetch
	}
	return navigation
}

// returnAfterSignout finishes a federated sign-out at GET /: it reports
// whether it redirected to the remembered callbackUrl.
func (b *BFF) returnAfterSignout(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet || r.URL.Path != "/" {
		return false
	}
	to := b.core.ReturnAfterSignout(b.request(w, r))
	if to == "" {
		return false
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusFound)
	return true
}

// canonicalHost sends a browser that reached a development server at
// http://localhost:<port> through another loopback name (127.0.0.1 or [::1]
// instead of localhost) to the configured origin, since the cookies and the
// IdP's redirect_uri are bound to one host name. It reports whether it
// redirected.
func (b *BFF) canonicalHost(w http.ResponseWriter, r *http.Request) bool {
	if b.cfg.URL.Scheme != "http" || b.cfg.URL.Hostname() != "localhost" ||
		(r.Method != http.MethodGet && r.Method != http.MethodHead) || r.Host == b.cfg.URL.Host {
		return false
	}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil || port != b.cfg.URL.Port() {
		return false
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return false
	}
	http.Redirect(w, r, b.core.Origin()+r.URL.RequestURI(), http.StatusFound)
	return true
}
