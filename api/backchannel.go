package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// logoutReplayTTL is how long a used logout token's jti is remembered:
// longer than VerifyLogoutToken accepts a token (5 min by iat, plus skew).
const logoutReplayTTL = 10 * time.Minute

// handleBackchannelLogout is POST /backchannel-logout/:provider (OpenID
// Connect Back-Channel Logout 1.0). The IdP calls it server to server, so
// there is no CSRF token or Origin to check: the signed logout token is the
// authentication. A valid, unused token ends the user's sessions: all of
// them (sub only) or those of one IdP session (sub and sid). A token with
// sid but no sub is refused: sessions are indexed by user, not by sid.
//
// Answers: 200 done; 400 {"error":"invalid_request"} for a missing,
// invalid, replayed or sid-only token; 503 when the IdP's keys or the
// session store cannot be reached (the IdP may retry).
func (a *App) handleBackchannelLogout(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	log := a.reqLog(c)
	id := c.Param("provider")
	bad := func(message string) {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "invalid_request", "message": message})
	}
	p := a.providers[id]
	if p == nil {
		bad("unknown provider")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
	if err := c.Request.ParseForm(); err != nil {
		bad("the body must be a form with logout_token")
		return
	}
	raw := c.Request.PostForm.Get("logout_token")
	if raw == "" {
		bad("logout_token is required")
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 10*time.Second)
	defer cancel()
	lc, err := p.client.VerifyLogoutToken(ctx, raw)
	if errors.Is(err, oidc.ErrDiscovery) {
		log.Error("back-channel logout: the IdP's keys cannot be fetched", "provider", id, "err", err)
		c.Header("Retry-After", "5")
		jsonError(c, http.StatusServiceUnavailable, "temporarily_unavailable", "the provider's signing keys cannot be fetched; retry later")
		return
	}
	if err != nil {
		log.Warn("back-channel logout refused: invalid logout token", "provider", id, "err", err)
		bad("the logout token is not valid")
		return
	}
	if lc.Subject == "" {
		log.Warn("back-channel logout refused: token has sid but no sub", "provider", id)
		bad("logout tokens without sub are not supported")
		return
	}
	sum := sha256.Sum256([]byte(id + "\x00" + lc.JTI))
	replayID := "bclogout:" + hex.EncodeToString(sum[:])
	seen, err := a.markUsed(ctx, replayID, a.now().Add(logoutReplayTTL))
	if err != nil {
		a.storeUnavailable(c, err)
		return
	}
	if seen {
		log.Warn("back-channel logout refused: replayed logout token", "provider", id, "sub", lc.Subject)
		bad("the logout token was already used")
		return
	}
	n, err := a.endIdPSessions(ctx, id, lc)
	if err != nil {
		_ = a.store.Delete(ctx, replayID) // let the IdP's retry through
		a.storeUnavailable(c, err)
		return
	}
	log.Info("back-channel logout", "provider", id, "sub", lc.Subject, "sid_given", lc.SID != "", "sessions_ended", n)
	c.Status(http.StatusOK)
}

// endIdPSessions ends the sessions a logout token names: every session of
// the user, or with a sid only those recorded with that sid.
func (a *App) endIdPSessions(ctx context.Context, provider string, lc *oidc.LogoutClaims) (int, error) {
	key := session.UserKey(provider, lc.Subject)
	if lc.SID == "" {
		return a.sessions.DeleteUser(ctx, key)
	}
	list, err := a.sessions.List(ctx, key)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, in := range list {
		if in.SID != lc.SID {
			continue
		}
		if err := a.sessions.DeleteID(ctx, in.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
