package oidc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerifyLogoutToken(t *testing.T) {
	good, pub := newRSA(t, "k1")
	rogue, _ := newRSA(t, "k1") // same kid, not published
	op := newFakeOP(t, pub)
	p := newProvider(t, op, func(c *Config) { c.Cognito = false })
	now := op.clock.Now()
	claims := func(mut func(map[string]any)) map[string]any {
		c := map[string]any{
			"iss": op.issuer, "aud": testClientID, "iat": now.Unix(), "jti": "jti-1",
			"sub": "user-1", "sid": "sid-1",
			"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
		}
		if mut != nil {
			mut(c)
		}
		return c
	}
	tests := []struct {
		name   string
		token  string
		reason string // "" = accept
	}{
		{"baseline", sign(t, good, claims(nil)), ""},
		{"sub only", sign(t, good, claims(func(c map[string]any) { delete(c, "sid") })), ""},
		{"sid only", sign(t, good, claims(func(c map[string]any) { delete(c, "sub") })), ""},
		{"aud array", sign(t, good, claims(func(c map[string]any) { c["aud"] = []string{"x", testClientID} })), ""},
		{"iat 4 min ago", sign(t, good, claims(func(c map[string]any) { c["iat"] = now.Add(-4 * time.Minute).Unix() })), ""},
		{"bad signature", sign(t, rogue, claims(nil)), "signature"},
		{"alg none", unsigned(t, claims(nil)), "alg"},
		{"wrong iss", sign(t, good, claims(func(c map[string]any) { c["iss"] = op.issuer + "x" })), "iss"},
		{"wrong aud", sign(t, good, claims(func(c map[string]any) { c["aud"] = "other" })), "aud"},
		{"no iat", sign(t, good, claims(func(c map[string]any) { delete(c, "iat") })), "iat missing"},
		{"iat too old", sign(t, good, claims(func(c map[string]any) { c["iat"] = now.Add(-10 * time.Minute).Unix() })), "older"},
		{"iat in future", sign(t, good, claims(func(c map[string]any) { c["iat"] = now.Add(10 * time.Minute).Unix() })), "future"},
		{"expired", sign(t, good, claims(func(c map[string]any) { c["exp"] = now.Add(-5 * time.Minute).Unix() })), "expired"},
		{"nonce present", sign(t, good, claims(func(c map[string]any) { c["nonce"] = "n" })), "nonce"},
		{"no events", sign(t, good, claims(func(c map[string]any) { delete(c, "events") })), "events"},
		{"other event", sign(t, good, claims(func(c map[string]any) {
			c["events"] = map[string]any{"http://example.com/other": map[string]any{}}
		})), "events"},
		{"event not an object", sign(t, good, claims(func(c map[string]any) {
			c["events"] = map[string]any{BackchannelLogoutEvent: "yes"}
		})), "events"},
		{"no sub nor sid", sign(t, good, claims(func(c map[string]any) { delete(c, "sub"); delete(c, "sid") })), "neither"},
		{"no jti", sign(t, good, claims(func(c map[string]any) { delete(c, "jti") })), "jti"},
		{"an ID token", sign(t, good, op.claims()), "nonce"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lc, err := p.VerifyLogoutToken(context.Background(), tc.token)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if lc.JTI != "jti-1" || (lc.Subject == "" && lc.SID == "") || lc.IssuedAt.IsZero() {
					t.Fatalf("claims = %+v", lc)
				}
				return
			}
			if !errors.Is(err, ErrInvalidLogoutToken) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("err = %v, want ErrInvalidLogoutToken mentioning %q", err, tc.reason)
			}
		})
	}
}

func TestVerifyLogoutTokenJWKSDown(t *testing.T) {
	good, pub := newRSA(t, "k1")
	op := newFakeOP(t, pub)
	p := newProvider(t, op, nil)
	tok := sign(t, good, map[string]any{"iss": op.issuer})
	op.srv.Close()
	_, err := p.VerifyLogoutToken(context.Background(), tok)
	if !errors.Is(err, ErrDiscovery) || errors.Is(err, ErrInvalidLogoutToken) {
		t.Fatalf("err = %v, want ErrDiscovery only", err)
	}
}
