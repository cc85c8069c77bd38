package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/session"
)

var timeZero time.Time

// safeURL applies the callbackUrl policy against the configured origin.
func (a *App) safeURL(raw string) string {
	u, _ := auth.SafeCallbackURL(raw, a.origin)
	return u
}

type providerJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	SigninURL   string `json:"signinUrl"`
	CallbackURL string `json:"callbackUrl"`
}

func (a *App) providerList() map[string]providerJSON {
	typ := "oauth"
	if a.flavor == auth.FlavorV5 {
		typ = "oidc"
	}
	out := make(map[string]providerJSON, len(a.order))
	for _, id := range a.order {
		p := a.providers[id]
		out[id] = providerJSON{
			ID: id, Name: p.cfg.Name, Type: typ,
			SigninURL:   a.base + "/signin/" + id,
			CallbackURL: a.cfg.CallbackURL(id),
		}
	}
	return out
}

func (a *App) handleProviders(c *gin.Context) {
	c.JSON(http.StatusOK, a.providerList())
}

func (a *App) handleCSRF(c *gin.Context) {
	noCache(c)
	c.JSON(http.StatusOK, gin.H{"csrfToken": a.csrfToken(c)})
}

// emptySession writes the flavour's "no session" body: {} (v4) or null (v5).
func (a *App) emptySession(c *gin.Context, status int) {
	c.Header("Content-Type", "application/json; charset=utf-8")
	c.Status(status)
	if a.flavor == auth.FlavorV5 {
		_, _ = c.Writer.WriteString("null")
		return
	}
	_, _ = c.Writer.WriteString("{}")
}

// loadSession reads the request's session. s == nil with err == nil means
// "no session" (and a stale cookie has been cleared); err != nil is a store
// fault, answered by the caller without touching the cookie.
func (a *App) loadSession(c *gin.Context) (token string, s *session.Session, err error) {
	token, s, _, err = a.loadSessionJSON(c)
	return token, s, err
}

// loadSessionJSON is loadSession that also returns the session JSON cached
// for this version of the session, or nil (see session.Manager.LoadJSON).
func (a *App) loadSessionJSON(c *gin.Context) (token string, s *session.Session, js []byte, err error) {
	token = cookieValue(c, a.names.Session)
	if token == "" {
		return "", nil, nil, nil
	}
	s, js, err = a.sessions.LoadJSON(c.Request.Context(), token)
	if errors.Is(err, session.ErrNotFound) {
		a.clearCookie(c, a.names.Session)
		return "", nil, nil, nil
	}
	if err != nil {
		return "", nil, nil, err
	}
	if s.Extended {
		a.setCookie(c, a.names.Session, token, s.Expires)
	}
	return token, s, js, nil
}

// storeUnavailable answers a store fault: 503, Retry-After, cookie kept.
func (a *App) storeUnavailable(c *gin.Context, err error) {
	a.reqLog(c).Error("session store unavailable", "err", err)
	c.Header("Retry-After", "5")
	jsonError(c, http.StatusServiceUnavailable, "session_store_unavailable",
		"The session store cannot be reached right now. You are still signed in; try again in a few seconds.")
}

func (a *App) handleSession(c *gin.Context) {
	a.respondSession(c, a.cfg.RefreshOnSession)
}

func (a *App) handleSessionUpdate(c *gin.Context) {
	body, err := readBody(c)
	if err != nil || !a.csrfOK(c, body) {
		noCache(c)
		a.emptySession(c, http.StatusBadRequest)
		return
	}
	// update() may send "data", but identity fields always come from the
	// stored session: the body is never trusted for them.
	a.respondSession(c, true)
}

// respondSession answers GET/POST /session: the session JSON, {} / null
// without a session, 503 on a store fault. With refresh, a due access token
// is refreshed first (a refused refresh ends the session).
func (a *App) respondSession(c *gin.Context, refresh bool) {
	noCache(c)
	token, s, js, err := a.loadSessionJSON(c)
	if err != nil {
		a.storeUnavailable(c, err)
		return
	}
	if s == nil {
		a.emptySession(c, http.StatusOK)
		return
	}
	if refresh {
		before := s
		if s, err = a.refreshIfDue(c.Request.Context(), token, s); err != nil {
			a.storeUnavailable(c, err)
			return
		}
		if s == nil {
			a.clearCookie(c, a.names.Session) // the refresh ended the session
			a.emptySession(c, http.StatusOK)
			return
		}
		if s != before {
			js = nil
		}
	}
	if js == nil {
		js = a.renderSession(s)
		a.sessions.SetJSON(s, js)
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", js)
}

// sessionJSON is the contract's session object; absent values are omitted.
type sessionJSON struct {
	User    sessionUserJSON `json:"user"`
	Expires string          `json:"expires"`
	Error   string          `json:"error,omitempty"`
}

type sessionUserJSON struct {
	Name   string   `json:"name,omitempty"`
	Email  string   `json:"email,omitempty"`
	Image  string   `json:"image,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

// renderSession renders the session JSON of the contract (never a token).
func (a *App) renderSession(s *session.Session) []byte {
	u := s.Data.User
	out := sessionJSON{
		User:    sessionUserJSON{Name: u.Name, Email: u.Email, Image: u.Image},
		Expires: jsTime(s.Expires),
		Error:   s.Data.RefreshError,
	}
	if a.cfg.SessionGroups {
		out.User.Groups = u.Groups
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic("session JSON: " + err.Error()) // strings and a slice of strings always marshal
	}
	return b
}
