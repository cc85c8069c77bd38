package oidc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrInvalidLogoutToken wraps every reason a back-channel logout token is
// refused.
var ErrInvalidLogoutToken = errors.New("oidc: invalid logout token")

// BackchannelLogoutEvent is the member of a logout token's "events" claim
// that marks it as an OpenID Connect Back-Channel Logout 1.0 token.
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// maxLogoutTokenAge is how old (by iat) a logout token may be. The spec
// leaves it to the RP; a short window bounds what a jti cache must remember.
const maxLogoutTokenAge = 5 * time.Minute

// LogoutClaims are the claims of a verified back-channel logout token. At
// least one of Subject and SID is set; JTI is always set.
type LogoutClaims struct {
	// Subject is "sub": the user whose sessions end (may be "" if SID is set).
	Subject string
	// SID is "sid": the IdP session that ends (may be "" if Subject is set).
	SID string
	// JTI is the token's unique id, for the caller's replay cache.
	JTI string
	// IssuedAt is "iat".
	IssuedAt time.Time
}

func invalidLogout(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidLogoutToken}, args...)...)
}

// VerifyLogoutToken verifies a back-channel logout token (OpenID Connect
// Back-Channel Logout 1.0, section 2.6) and returns its claims.
//
// It checks the signature exactly as VerifyIDToken does (same JWKS cache,
// allowed algs, no "crit"); iss == Config.Issuer exactly; aud contains
// ClientID; iat present, not in the future and at most 5 minutes old
// (ClockSkew allowed); exp, when present, not past; an "events" object whose
// member BackchannelLogoutEvent is an object; NO "nonce" claim; "sub" or "sid"
// present; "jti" present.
//
// The caller must STILL refuse a replayed jti (remember it for at least
// 5 minutes plus the skew) and decide what sub/sid end. Refused tokens give
// errors wrapping ErrInvalidLogoutToken; failures to fetch discovery or the
// JWKS wrap ErrDiscovery instead.
func (p *Provider) VerifyLogoutToken(ctx context.Context, raw string) (*LogoutClaims, error) {
	payload, _, err := p.verifySignature(ctx, raw, "logout token", invalidLogout)
	if err != nil {
		return nil, err
	}
	c, err := parseClaims(payload)
	if err != nil {
		return nil, invalidLogout("%w", err)
	}
	if err := p.checkLogoutClaims(c); err != nil {
		return nil, err
	}
	jti, _ := c.Raw["jti"].(string)
	return &LogoutClaims{Subject: c.Subject, SID: c.SID, JTI: jti, IssuedAt: c.IssuedAt}, nil
}

func (p *Provider) checkLogoutClaims(c *Claims) error {
	now := p.now()
	switch {
	case c.Issuer != p.issuer():
		return invalidLogout("iss mismatch (got %q, want %q)", c.Issuer, p.issuer())
	case !slices.Contains(c.Audience, p.cfg.ClientID):
		return invalidLogout("aud %v does not contain the client id", c.Audience)
	case c.IssuedAt.IsZero():
		return invalidLogout("iat missing")
	case c.IssuedAt.After(now.Add(p.skew)):
		return invalidLogout("iat in the future")
	case now.Sub(c.IssuedAt) > maxLogoutTokenAge+p.skew:
		return invalidLogout("iat older than %s", maxLogoutTokenAge)
	case !c.Expiry.IsZero() && now.After(c.Expiry.Add(p.skew)):
		return invalidLogout("expired")
	case c.Subject == "" && c.SID == "":
		return invalidLogout("neither sub nor sid")
	}
	if _, ok := c.Raw["nonce"]; ok {
		return invalidLogout("a logout token must not contain nonce")
	}
	events, ok := c.Raw["events"].(map[string]any)
	if !ok {
		return invalidLogout("events claim missing or not an object")
	}
	if _, ok := events[BackchannelLogoutEvent].(map[string]any); !ok {
		return invalidLogout("events claim lacks the object %s", BackchannelLogoutEvent)
	}
	if jti, _ := c.Raw["jti"].(string); jti == "" {
		return invalidLogout("jti missing")
	}
	return nil
}
