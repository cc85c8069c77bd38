package main

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/internal/session"
)

// mountBFF registers the backend-for-frontend routes: the API proxy under
// /api/proxy, session control and back-channel logout under the base path.
func (a *App) mountBFF(r *gin.Engine, base *gin.RouterGroup) {
	p := newProxy(a)
	r.Any("/api/proxy/:name", p.serve)
	r.Any("/api/proxy/:name/*path", p.serve)

	base.GET("/sessions", a.handleListSessions)
	base.DELETE("/sessions/:id", a.handleDeleteSession)
	base.POST("/backchannel-logout/:provider", a.handleBackchannelLogout)
}

// apiGuard is the check every BFF fetch route makes before anything else:
// the header X-CSRF: 1 (a custom header, so a cross-site page cannot send it
// without a CORS preflight, which only CORS_ORIGINS pass) and a same-origin
// Origin / Sec-Fetch-Site. It answers 401 / 403 JSON and reports false when
// they fail.
func (a *App) apiGuard(c *gin.Context) bool {
	if c.GetHeader("X-CSRF") != "1" {
		jsonError(c, http.StatusUnauthorized, "csrf_header_missing",
			"send the header X-CSRF: 1 with API calls (fetchApi in auth.js does)")
		return false
	}
	if !a.sameOriginPost(c) {
		jsonError(c, http.StatusForbidden, "cross_origin",
			"cross-site API calls are refused; add the origin to CORS_ORIGINS if it is yours")
		return false
	}
	return true
}

// apiSession loads the request's session for a BFF fetch route: a store
// fault is a 503, no session a 401 JSON (never a redirect). ok is false when
// an answer has been written.
func (a *App) apiSession(c *gin.Context) (token string, s *session.Session, ok bool) {
	token, s, err := a.loadSession(c)
	if err != nil {
		a.storeUnavailable(c, err)
		return "", nil, false
	}
	if s == nil {
		jsonError(c, http.StatusUnauthorized, "unauthenticated", "sign in first: this route needs a session")
		return "", nil, false
	}
	return token, s, true
}
