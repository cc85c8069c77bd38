// Package bffgin mounts authbff (package bff) on a Gin engine: the NextAuth
// routes and the API proxy next to the host's own routes, and a middleware
// that protects the host's routes with the session.
//
//	r := gin.New()
//	bffgin.Mount(r, b)
//	r.GET("/api/orders", bffgin.Require(b), func(c *gin.Context) {
//		s, _ := bffgin.SessionFrom(c)
//		tok, err := s.AccessToken(c.Request.Context())
//		...
//	})
//
// It works on any engine: ContextWithFallback need not be set. It is the
// only package of authbff's library that imports Gin.
package bffgin

import (
	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/bff"
)

// Mount puts authbff's routes on r: the NextAuth routes under b's base path
// (default /api/auth/*), the API proxy (/api/proxy/*), and the development
// IdP (/_devidp/*) when it runs. When r is the *gin.Engine itself, Mount
// also makes b.Handler() the engine's NoRoute handler (replacing any set
// before; set yours after Mount to take it back), so /healthz, /readyz and
// the SPA (Options.SPA, behind ProtectedPaths) are served for every path no
// route of the engine takes. On a group, mount b.Handler() for those paths
// yourself (gin.WrapH). The routes behave exactly as b.Handler() serves
// them.
func Mount(r gin.IRoutes, b *bff.BFF) {
	h := gin.WrapH(b.Handler())
	r.Any(b.BasePath()+"/*action", h)
	r.Any("/api/proxy/*path", h)
	if p := b.DevIdPPath(); p != "" {
		r.Any(p+"/*path", h)
	}
	if e, ok := r.(*gin.Engine); ok {
		e.NoRoute(h)
	}
}

// Require protects a Gin route as bff.Require does: without a live session,
// the header X-CSRF: 1 or a same-origin request it answers (through
// Options.ErrorHandler when set, else 401 - 403 for a cross-origin call -
// JSON {"error","message"}, 503 with Retry-After on a store outage) and
// aborts. Otherwise SessionFrom(c), bff.SessionFrom(c) and
// bff.SessionFrom(c.Request.Context()) return the session in the handlers
// that follow. opts are bff.Require's (bff.RequireGroups("admins"): 403
// {"error":"forbidden"} for a signed-in user outside the groups).
func Require(b *bff.BFF, opts ...bff.RequireOption) gin.HandlerFunc {
	return func(c *gin.Context) {
		s, ok := b.Authorize(c.Writer, c.Request, opts...)
		if !ok {
			c.Abort()
			return
		}
		c.Set(bff.SessionContextKey, s)
		c.Request = c.Request.WithContext(bff.WithSession(c.Request.Context(), s))
		c.Next()
	}
}

// RequireStepUp is Require with a step-up requirement (bff.StepUp: acr
// values, max age): a session that does not meet it gets 401
// insufficient_user_authentication naming what to sign in with.
func RequireStepUp(b *bff.BFF, req bff.StepUp) gin.HandlerFunc {
	return func(c *gin.Context) {
		s, ok := b.AuthorizeStepUp(c.Writer, c.Request, req)
		if !ok {
			c.Abort()
			return
		}
		c.Set(bff.SessionContextKey, s)
		c.Request = c.Request.WithContext(bff.WithSession(c.Request.Context(), s))
		c.Next()
	}
}

// SessionFrom returns the session Require let through to c's handlers.
func SessionFrom(c *gin.Context) (*bff.Session, bool) {
	return bff.SessionFrom(c.Request.Context())
}
