package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCSRF(t *testing.T) {
	c := NewCSRF([][]byte{[]byte(strings.Repeat("a", 32))})
	tok, cookie := c.Mint()
	if len(tok) != 64 || !strings.HasPrefix(cookie, tok+"|") {
		t.Fatalf("bad mint %q %q", tok, cookie)
	}
	if got, ok := c.FromCookie(cookie); !ok || got != tok {
		t.Fatal("own cookie does not verify")
	}
	if !c.Valid(cookie, tok) {
		t.Fatal("matching token rejected")
	}
	other, _ := c.Mint()
	for name, tc := range map[string]struct{ cookie, sub string }{
		"empty submission":   {cookie, ""},
		"other token":        {cookie, other},
		"forged hash":        {other + "|" + strings.Repeat("0", 64), other},
		"no cookie":          {"", tok},
		"cookie of a secret": {NewCSRF([][]byte{[]byte(strings.Repeat("b", 32))}).mintFor(tok), tok},
	} {
		t.Run(name, func(t *testing.T) {
			if c.Valid(tc.cookie, tc.sub) {
				t.Fatal("accepted")
			}
		})
	}
	rotated := NewCSRF([][]byte{[]byte(strings.Repeat("n", 32)), []byte(strings.Repeat("a", 32))})
	if !rotated.Valid(cookie, tok) {
		t.Fatal("previous secret not accepted after rotation")
	}
}

func (c *CSRF) mintFor(token string) string { return token + "|" + c.hash(token, c.secrets[0]) }

func TestFlowSeal(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := NewSealer([][]byte{[]byte(strings.Repeat("k", 32))}, clock)
	if err != nil {
		t.Fatal(err)
	}
	f := Flow{Provider: "cognito", State: "st", Verifier: "ver", Nonce: "no", CallbackURL: "http://x/", Created: now}
	name := "next-auth.state." + FlowKey("st")
	v, err := s.Seal(name, f)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(v, "ver") {
		t.Fatal("verifier visible in cookie")
	}
	got, err := s.Open(name, v, "st", "cognito")
	if err != nil || got.Verifier != "ver" || got.CallbackURL != "http://x/" {
		t.Fatalf("open: %v %+v", err, got)
	}
	tampered := []byte(v)
	tampered[len(tampered)/2] ^= 1
	cases := map[string]func() error{
		"other state":    func() error { _, err := s.Open(name, v, "st2", "cognito"); return err },
		"other provider": func() error { _, err := s.Open(name, v, "st", "okta"); return err },
		"other cookie":   func() error { _, err := s.Open(name+"x", v, "st", "cognito"); return err },
		"tampered":       func() error { _, err := s.Open(name, string(tampered), "st", "cognito"); return err },
		"garbage":        func() error { _, err := s.Open(name, "!!", "st", "cognito"); return err },
		"expired": func() error {
			now = now.Add(FlowMaxAge + time.Second)
			defer func() { now = now.Add(-FlowMaxAge - time.Second) }()
			_, err := s.Open(name, v, "st", "cognito")
			return err
		},
	}
	for n, fn := range cases {
		t.Run(n, func(t *testing.T) {
			if err := fn(); !errors.Is(err, ErrBadFlow) {
				t.Fatalf("got %v, want ErrBadFlow", err)
			}
		})
	}
	if FlowKey("a") == FlowKey("b") || len(FlowKey("a")) != 16 {
		t.Fatal("flow keys")
	}
}

func TestClientCode(t *testing.T) {
	if ClientCode(FlavorV5, ErrOAuthCallback) != "OAuthCallbackError" || ClientCode(FlavorV5, "Default") != ErrConfiguration {
		t.Fatal("v5 mapping")
	}
	if ClientCode(FlavorV4, ErrOAuthCallback) != ErrOAuthCallback {
		t.Fatal("v4 mapping")
	}
}
