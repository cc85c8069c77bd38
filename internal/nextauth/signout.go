package nextauth

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"time"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// revokeTimeout bounds the sign-out's call to the IdP's revocation endpoint.
const revokeTimeout = 3 * time.Second

// SignOut is POST /signout after CheckForm: it ends the session (loaded
// first, so its ID token is known; the Manager revokes the refresh token at
// the IdP in the background, see RevokeRefreshToken) and returns the
// validated callbackUrl, or with federated sign-out the IdP's logout URL. A
// store fault ends nothing.
func (c *Core) SignOut(ctx context.Context, r *Request, body url.Values) (string, error) {
	log := c.logger(r)
	callback := c.CallbackURL(r, body) // also kept in the callback-url cookie
	// Both the current and (https) the legacy session cookie are ended: a
	// leftover one would sign the user straight back in.
	var s *session.Session
	for _, name := range []string{c.names.Session, c.names.Legacy.Session} {
		token := ""
		if name != "" {
			token = r.Cookies.Get(name)
		}
		if token == "" {
			continue
		}
		ls, err := c.sessions.Load(ctx, token)
		if err != nil && !errors.Is(err, session.ErrNotFound) {
			return "", storeErr(err)
		}
		if err := c.sessions.Delete(ctx, token); err != nil && !errors.Is(err, session.ErrNotFound) {
			return "", storeErr(err)
		}
		if s == nil {
			s = ls
		}
		if name != c.names.Session {
			r.Cookies.Clear(name)
		}
	}
	r.Cookies.Clear(c.names.Session)
	to := callback
	if s != nil {
		c.metrics.SignOut(s.Data.Provider)
		to = c.signoutTarget(ctx, log, s, callback)
		log.Info("signed out", "provider", s.Data.Provider, "sub", s.Data.Subject, "federated", to != callback)
		c.emit(ctx, Event{Kind: EventSignedOut, Provider: s.Data.Provider, Subject: s.Data.Subject, Session: shortSID(s.ID)})
		if to != callback && callback != c.origin && callback != c.origin+"/" {
			// The IdP returns the browser to the origin; from there it is
			// sent on to the callbackUrl (see ReturnAfterSignout).
			r.Cookies.Set(c.names.SignoutReturn, url.QueryEscape(callback), c.now().Add(10*time.Minute))
		}
	}
	return to, nil
}

// RevokeRefreshToken revokes refreshToken at provider's IdP (RFC 7009;
// at Cognito this also kills the access tokens minted from it). The session
// Manager calls it for every session it ends, and the refresher for a token
// it obtained after its session had ended. It is best-effort and bounded
// (3 s): the session is already ended, a failure is only logged.
func (c *Core) RevokeRefreshToken(ctx context.Context, provider, refreshToken string) {
	p := c.providers[provider]
	if p == nil || refreshToken == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeTimeout)
	defer cancel()
	err := p.client.Revoke(ctx, refreshToken)
	switch {
	case err == nil:
		c.log.InfoContext(ctx, "session ended: refresh token revoked at the IdP", "provider", p.cfg.ID)
	case errors.Is(err, oidc.ErrNotSupported):
		c.log.DebugContext(ctx, "session ended: the IdP has no revocation endpoint", "provider", p.cfg.ID)
	default:
		c.log.WarnContext(ctx, "session ended: revoking the refresh token failed (the session is ended anyway)", "provider", p.cfg.ID, "err", err)
	}
}

// federatedSignout reports whether signing out also ends the IdP session:
// AUTH_FEDERATED_SIGNOUT when set; unset, on for a Cognito provider (the
// dev IdP included), whose hosted UI always has /logout (without it the
// hosted-UI cookie survives and the next sign-in is silent), off otherwise,
// so that nobody is sent to a logout that was only guessed.
func (c *Core) federatedSignout(p *provider) bool {
	if c.cfg.FederatedSignout != nil {
		return *c.cfg.FederatedSignout
	}
	return p.cfg.Cognito
}

// signoutTarget is where the browser goes after POST /signout: with
// federated sign-out, the IdP's logout URL (Cognito: /logout?client_id&
// logout_uri; OIDC: end_session_endpoint with client_id, logout_hint and
// post_logout_redirect_uri, the ID token only with
// AUTH_<ID>_LOGOUT_ID_TOKEN_HINT), which returns the browser to the origin, the one URL to register at the IdP; otherwise, or when the
// IdP offers no logout, the validated callbackUrl.
func (c *Core) signoutTarget(ctx context.Context, log *slog.Logger, s *session.Session, callback string) string {
	p := c.providers[s.Data.Provider]
	if p == nil || !c.federatedSignout(p) {
		return callback
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	u, err := p.client.EndSessionURL(ctx, s.Data.Tokens.IDToken, c.origin)
	if err != nil {
		level := slog.LevelWarn
		if errors.Is(err, oidc.ErrNotSupported) {
			level = slog.LevelInfo
		}
		log.Log(ctx, level, "sign-out: no IdP logout URL, the IdP session stays (set AUTH_FEDERATED_SIGNOUT=0 to silence)",
			"provider", p.cfg.ID, "err", err)
		return callback
	}
	return u
}

// ReturnAfterSignout finishes a federated sign-out: the IdP sent the
// browser back to the origin, and the callbackUrl given to signOut() was
// remembered in a short-lived cookie. It returns where to send the browser,
// or "" when there is nothing to do.
func (c *Core) ReturnAfterSignout(r *Request) string {
	raw := r.Cookies.Get(c.names.SignoutReturn)
	if raw == "" {
		return ""
	}
	r.Cookies.Clear(c.names.SignoutReturn)
	v, err := url.QueryUnescape(raw)
	if err != nil {
		return ""
	}
	return c.SafeURL(v)
}
