package nextauth

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/metrics"
	rf "github.com/authbff/authbff/internal/refresh"
	"github.com/authbff/authbff/internal/session"
)

// LoadSession reads the request's session. s == nil with err == nil means
// "no session" (a stale cookie has been cleared); an error is a store
// fault (*Error, Unavailable), answered without touching the cookie. js is
// the session JSON cached for this version of the session, or nil.
func (c *Core) LoadSession(ctx context.Context, r *Request) (token string, s *session.Session, js []byte, err error) {
	token, legacy := c.sessionToken(r)
	if token == "" {
		c.metrics.SessionRead(metrics.ReadNone)
		return "", nil, nil, nil
	}
	s, js, err = c.sessions.LoadJSON(ctx, token)
	if errors.Is(err, session.ErrNotFound) {
		c.metrics.SessionRead(metrics.ReadNone)
		if !legacy {
			r.Cookies.Clear(c.names.Session)
		}
		c.dropLegacy(r)
		return "", nil, nil, nil
	}
	if err != nil {
		c.metrics.SessionRead(metrics.ReadUnavailable)
		return "", nil, nil, storeErr(err)
	}
	c.metrics.SessionRead(metrics.ReadOK)
	c.dropLegacy(r)
	if s.Extended || legacy {
		// A session found under the old __Secure- name moves to the
		// __Host- one, so a deploy signs nobody out.
		r.Cookies.Set(c.names.Session, token, s.Expires)
	}
	return token, s, js, nil
}

// sessionToken returns the request's session cookie token: the current
// name first, then (https) the legacy __Secure- name.
func (c *Core) sessionToken(r *Request) (token string, legacy bool) {
	return c.names.SessionToken(r.Cookies)
}

// dropLegacy clears a legacy session cookie the request still sends, once
// the store has answered (never on an outage: that would sign the user out).
func (c *Core) dropLegacy(r *Request) {
	if c.names.Legacy.Session != "" && r.Cookies.Get(c.names.Legacy.Session) != "" {
		r.Cookies.Clear(c.names.Legacy.Session)
	}
}

// EmptySession is the flavour's "no session" body: {} (v4) or null (v5).
func (c *Core) EmptySession() []byte {
	if c.flavor == auth.FlavorV5 {
		return []byte("null")
	}
	return []byte("{}")
}

// Session is GET/POST /session: the session JSON, or nil without a
// session. With refresh, a due access token is refreshed first (a refused
// refresh ends the session and clears its cookie).
func (c *Core) Session(ctx context.Context, r *Request, refresh bool) ([]byte, error) {
	token, s, js, err := c.LoadSession(ctx, r)
	if err != nil || s == nil {
		return nil, err
	}
	if !refresh && rf.AccessExpired(&s.Data, c.now()) {
		// Without a refresh token the access token cannot be renewed: say so
		// (the cached JSON was rendered before it expired).
		exp := *s
		exp.Data.RefreshError = rf.ExpiredCode
		return c.withSessionHook(ctx, c.RenderSession(&exp), s), nil
	}
	if refresh {
		before := s
		if s, err = c.refresher.IfDue(ctx, token, s); err != nil {
			return nil, storeErr(err)
		}
		if s == nil {
			r.Cookies.Clear(c.names.Session) // the refresh ended the session
			return nil, nil
		}
		if s != before {
			js = nil
		}
	}
	if js == nil {
		js = c.RenderSession(s)
		c.sessions.SetJSON(s, js)
	}
	return c.withSessionHook(ctx, js, s), nil
}

// sessionJSON is the contract's session object; absent values are omitted.
type sessionJSON struct {
	User    sessionUserJSON `json:"user"`
	Expires string          `json:"expires"`
	Error   string          `json:"error,omitempty"`
	// authbff's additions (times, never tokens; the client ignores them).
	AccessTokenExpires string `json:"accessTokenExpires,omitempty"`
	RefreshedAt        string `json:"refreshedAt,omitempty"`
}

type sessionUserJSON struct {
	Name   string   `json:"name,omitempty"`
	Email  string   `json:"email,omitempty"`
	Image  string   `json:"image,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

// RenderSession renders the session JSON of the contract (never a token).
func (c *Core) RenderSession(s *session.Session) []byte {
	u := s.Data.User
	out := sessionJSON{
		User:    sessionUserJSON{Name: u.Name, Email: u.Email, Image: u.Image},
		Expires: JSTime(s.Expires),
		Error:   s.Data.RefreshError,
	}
	if t := s.Data.Tokens.AccessExpiry; !t.IsZero() {
		out.AccessTokenExpires = JSTime(t)
	}
	if t := s.Data.RefreshedAt; !t.IsZero() {
		out.RefreshedAt = JSTime(t)
	}
	if c.cfg.SessionGroups {
		out.User.Groups = u.Groups
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic("session JSON: " + err.Error()) // strings and a slice of strings always marshal
	}
	return c.renderExtras(b, &out.User, s)
}

// JSTime formats t as JavaScript's Date.toISOString does.
func JSTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// RefreshIfDue returns the session with a usable access token, refreshing it
// at the IdP when it is within the refresh margin of expiry (one refresh per
// session at a time, across instances). It returns nil, nil when the IdP
// refused the refresh and the session was ended: answer "no session" and
// clear the cookie. Errors wrap session.ErrUnavailable (answer 503, keep the
// cookie). After a transient IdP failure the session comes back with
// Data.RefreshError set and the refresh is retried later with back-off.
func (c *Core) RefreshIfDue(ctx context.Context, token string, s *session.Session) (*session.Session, error) {
	return c.refresher.IfDue(ctx, token, s)
}

// ForceRefresh refreshes the session's tokens whatever their expiry, for an
// upstream that answered 401 to its access token. When another request has
// already replaced that access token (or it was refreshed moments ago) the
// stored session is returned instead. A session the IdP ended is
// ErrSessionEnded (SessionEnded reports true); other errors wrap
// session.ErrUnavailable (keep the cookie).
func (c *Core) ForceRefresh(ctx context.Context, token string, s *session.Session) (*session.Session, error) {
	s2, err := c.refresher.Force(ctx, token, s)
	if err == nil && s2 == nil {
		return nil, ErrSessionEnded
	}
	return s2, err
}

// AccessToken returns the session's current access token, refreshed first
// when due (single-flight per session across instances). The session
// returned is the one the token belongs to. A session the IdP ended is
// ErrSessionEnded (SessionEnded: clear the cookie); a store fault is
// Unavailable.
func (c *Core) AccessToken(ctx context.Context, token string, s *session.Session) (string, *session.Session, error) {
	s2, err := c.refresher.IfDue(ctx, token, s)
	if err != nil {
		return "", s, storeErr(err)
	}
	if s2 == nil {
		return "", nil, ErrSessionEnded
	}
	if s2.Data.RefreshError == rf.ExpiredCode || rf.AccessExpired(&s2.Data, c.now()) {
		return "", s2, NewError(CodeAccessTokenExpired, "")
	}
	access := s2.Data.Tokens.AccessToken
	if access == "" {
		return "", s2, NewError(CodeNoAccessToken, "")
	}
	return access, s2, nil
}
