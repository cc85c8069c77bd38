package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/spa"
)

// newSPA returns the SPA handler: the embedded app, or SPA_DIR.
func (a *App) newSPA() (http.Handler, error) {
	o := spa.Options{Logger: a.log.With("component", "spa")}
	if a.cfg.SPADir != "" {
		o.FS = os.DirFS(a.cfg.SPADir)
	}
	h, err := spa.New(o)
	if err != nil {
		return nil, fmt.Errorf("main: SPA: %w", err)
	}
	return h, nil
}

// protected reports whether a path needs a session: a PROTECTED_PATHS
// pattern ending in "*" matches by prefix, any other exactly.
func (a *App) protected(p string) bool {
	for _, pat := range a.cfg.ProtectedPaths {
		if strings.HasSuffix(pat, "*") {
			if strings.HasPrefix(p, strings.TrimSuffix(pat, "*")) {
				return true
			}
		} else if p == pat {
			return true
		}
	}
	return false
}

// guard enforces PROTECTED_PATHS before anything is served: without a
// session a navigation is sent home (like the tutorial's
// getServerSideProps), a fetch under /api/ gets 401 JSON. It reports whether
// the request may go on.
func (a *App) guard(c *gin.Context) bool {
	if !a.protected(c.Request.URL.Path) {
		return true
	}
	_, s, err := a.loadSession(c)
	if err != nil {
		a.storeUnavailable(c, err)
		return false
	}
	if s != nil {
		c.Header("Cache-Control", "private, no-cache")
		return true
	}
	if hasPathPrefix(c.Request.URL.Path, "/api") {
		jsonError(c, http.StatusUnauthorized, "unauthenticated", "sign in first: this route needs a session")
		return false
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, a.origin+"/")
	c.Abort()
	return false
}

// corsMiddleware allows the CORS_ORIGINS allow-list, with credentials,
// never "*".
func (a *App) corsMiddleware() gin.HandlerFunc {
	return cors.New(cors.Config{
		AllowOrigins:     a.cfg.CORSOrigins,
		AllowMethods:     []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowHeaders:     []string{"Content-Type", "X-CSRF", "X-Auth-Return-Redirect", "X-Request-Id"},
		ExposeHeaders:    []string{"X-Request-Id"},
		AllowCredentials: true,
		MaxAge:           10 * time.Minute,
	})
}

// canonicalHost sends a browser that reached a development server with no
// NEXTAUTH_URL through another loopback name (127.0.0.1 or [::1] instead of
// localhost) to the configured origin, since the cookies and the IdP's
// redirect_uri are bound to one host name. It reports whether it redirected.
func (a *App) canonicalHost(c *gin.Context) bool {
	r := c.Request
	if a.cfg.URLSet || (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.Host == a.cfg.URL.Host {
		return false
	}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil || port != a.cfg.URL.Port() {
		return false
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return false
	}
	c.Redirect(http.StatusFound, a.origin+r.URL.RequestURI())
	return true
}
