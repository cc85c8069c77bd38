package main

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// setCookie writes one of authbff's cookies with the contract's attributes:
// HttpOnly, SameSite=Lax, Path=/, Secure on https, no Domain. A zero expires
// makes a browser-session cookie.
func (a *App) setCookie(c *gin.Context, name, value string, expires time.Time) {
	ck := &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true,
		Secure: a.cfg.Secure(), SameSite: http.SameSiteLaxMode,
	}
	if !expires.IsZero() {
		ck.Expires = expires.UTC()
		ck.MaxAge = int(time.Until(expires).Seconds())
		if ck.MaxAge <= 0 {
			ck.MaxAge = 1
		}
	}
	http.SetCookie(c.Writer, ck)
}

// clearCookie deletes a cookie: empty value, Max-Age=0, same attributes.
func (a *App) clearCookie(c *gin.Context, name string) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: "", Path: "/", HttpOnly: true, MaxAge: -1,
		Secure: a.cfg.Secure(), SameSite: http.SameSiteLaxMode,
	})
}

func cookieValue(c *gin.Context, name string) string {
	ck, err := c.Request.Cookie(name)
	if err != nil {
		return ""
	}
	return ck.Value
}

// noCache sets the headers NextAuth sends on /csrf and /session.
func noCache(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "private, no-cache, no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
}
