package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// revokeTimeout bounds the sign-out's call to the IdP's revocation endpoint.
const revokeTimeout = 3 * time.Second

// revokeTokens revokes an ended session's refresh token at its IdP (which,
// at Cognito, also kills the access tokens minted from it). It is
// best-effort: the session is already deleted, a failure is only logged.
func (a *App) revokeTokens(ctx context.Context, log *slog.Logger, s *session.Session) {
	p := a.providers[s.Data.Provider]
	rt := s.Data.Tokens.RefreshToken
	if p == nil || rt == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeTimeout)
	defer cancel()
	err := p.client.Revoke(ctx, rt)
	switch {
	case err == nil:
		log.Info("sign-out: refresh token revoked at the IdP", "provider", p.cfg.ID)
	case errors.Is(err, oidc.ErrNotSupported):
		log.Debug("sign-out: the IdP has no revocation endpoint", "provider", p.cfg.ID)
	default:
		log.Warn("sign-out: revoking the refresh token failed (the session is ended anyway)", "provider", p.cfg.ID, "err", err)
	}
}

// federatedSignout reports whether signing out also ends the IdP session:
// AUTH_FEDERATED_SIGNOUT when set; unset, on for a Cognito provider (the dev
// IdP included) whose logout endpoint is published (COGNITO_DOMAIN is set,
// or discovery lists end_session_endpoint, as newer pools do), off
// otherwise, so that nobody is sent to a /logout that was only guessed.
func (a *App) federatedSignout(p *provider) bool {
	if a.cfg.FederatedSignout != nil {
		return *a.cfg.FederatedSignout
	}
	// Default: on for Cognito, whose hosted UI always has /logout (without
	// it the hosted-UI cookie survives and the next sign-in is silent).
	return p.cfg.Cognito
}

// signoutTarget is where the browser goes after POST /signout: with
// federated sign-out, the IdP's logout URL (Cognito: /logout?client_id&
// logout_uri=<origin>; OIDC: end_session_endpoint with id_token_hint and
// post_logout_redirect_uri=<origin>), which returns the browser to the
// origin, the one URL to register at the IdP; otherwise, or when the IdP
// offers no logout, the validated callbackUrl.
func (a *App) signoutTarget(ctx context.Context, log *slog.Logger, s *session.Session, callback string) string {
	p := a.providers[s.Data.Provider]
	if p == nil {
		return callback
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if !a.federatedSignout(p) {
		return callback
	}
	u, err := p.client.EndSessionURL(ctx, s.Data.Tokens.IDToken, a.origin)
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

// returnAfterSignout finishes a federated sign-out: the IdP sent the
// browser back to the origin, and the callbackUrl given to signOut() was
// remembered in a short-lived cookie. It reports whether it redirected.
func (a *App) returnAfterSignout(c *gin.Context) bool {
	if c.Request.Method != http.MethodGet || c.Request.URL.Path != "/" {
		return false
	}
	raw := cookieValue(c, a.names.SignoutReturn)
	if raw == "" {
		return false
	}
	a.clearCookie(c, a.names.SignoutReturn)
	v, err := url.QueryUnescape(raw)
	if err != nil {
		return false
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, a.safeURL(v))
	return true
}
