package nextauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/authbff/authbff/internal/metrics"
	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// logoutReplayTTL is how long a used logout token's jti is remembered:
// longer than VerifyLogoutToken accepts a token (5 min by iat, plus skew).
const logoutReplayTTL = 10 * time.Minute

func badLogout(message string) *Error {
	return NewError(CodeInvalidRequest, message)
}

// errLogoutReplayed is the cause of the answer to a replayed logout token
// (the metrics count it apart).
var errLogoutReplayed = errors.New("nextauth: the logout token was already used")

// BackchannelLogout is POST /backchannel-logout/:provider (OpenID Connect
// Back-Channel Logout 1.0). The IdP calls it server to server, so there is
// no CSRF token or Origin to check: the signed logout token is the
// authentication. A valid, unused token ends the sessions of one IdP
// session (a sid, with or without sub) or every session of the user (sub
// only). It returns how many sessions ended. Errors: CodeInvalidRequest
// for a missing, invalid or replayed token; Unavailable when the IdP's keys or
// the session store cannot be reached (the IdP may retry).
func (c *Core) BackchannelLogout(ctx context.Context, r *Request, id, raw string) (int, error) {
	n, err := c.backchannelLogout(ctx, r, id, raw)
	var e *Error
	switch {
	case err == nil:
		c.metrics.Backchannel(id, metrics.BackchannelOK)
	case errors.As(err, &e) && e.Unavailable():
		c.metrics.Backchannel(id, metrics.BackchannelUnavailable)
	case errors.Is(err, errLogoutReplayed):
		c.metrics.Backchannel(id, metrics.BackchannelReplayed)
	default:
		c.metrics.Backchannel(id, metrics.BackchannelInvalid)
	}
	return n, err
}

func (c *Core) backchannelLogout(ctx context.Context, r *Request, id, raw string) (int, error) {
	log := c.logger(r)
	p := c.providers[id]
	if p == nil {
		return 0, badLogout("unknown provider")
	}
	if raw == "" {
		return 0, badLogout("logout_token is required")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	lc, err := p.client.VerifyLogoutToken(ctx, raw)
	if errors.Is(err, oidc.ErrDiscovery) {
		log.Error("back-channel logout: the IdP's keys cannot be fetched", "provider", id, "err", err)
		e := NewError(CodeKeysUnavailable, "")
		e.Err = err
		return 0, e
	}
	if err != nil {
		log.Warn("back-channel logout refused: invalid logout token", "provider", id, "err", err)
		return 0, badLogout("the logout token is not valid")
	}
	sum := sha256.Sum256([]byte(id + "\x00" + lc.JTI))
	replayID := "bclogout:" + hex.EncodeToString(sum[:])
	seen, err := c.sessions.MarkUsed(ctx, replayID, c.now().Add(logoutReplayTTL))
	if err != nil {
		return 0, storeErr(err)
	}
	if seen {
		log.Warn("back-channel logout refused: replayed logout token", "provider", id, "sid_given", lc.SID != "")
		e := badLogout("the logout token was already used")
		e.Err = errLogoutReplayed
		return 0, e
	}
	n, err := c.endIdPSessions(ctx, id, lc)
	if err != nil {
		_ = c.sessions.UnmarkUsed(ctx, replayID) // let the IdP's retry through
		return n, storeErr(err)
	}
	log.Info("back-channel logout", "provider", id, "sub", lc.Subject, "sid_given", lc.SID != "", "sessions_ended", n)
	if n > 0 {
		c.emit(ctx, Event{Kind: EventSessionEnded, Provider: id, Subject: lc.Subject, Reason: "backchannel_logout"})
	}
	return n, nil
}

// endIdPSessions ends the sessions a logout token names: with a sid,
// exactly those signed in through that IdP session (sub or not); with sub
// only, every session of the user.
func (c *Core) endIdPSessions(ctx context.Context, provider string, lc *oidc.LogoutClaims) (int, error) {
	if lc.SID != "" {
		return c.sessions.DeleteSID(ctx, session.SIDKey(provider, lc.SID))
	}
	return c.sessions.DeleteUser(ctx, session.UserKey(provider, lc.Subject))
}
