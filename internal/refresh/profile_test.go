package refresh_test

import (
	"testing"
	"time"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/refresh"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
)

// TestRefreshKeepsAUserInfoProfile: with a provider whose profile comes
// from userinfo only, the session's name and email are the same before and
// after a refresh (issue 12 item 1), whether userinfo is configured or read
// because the ID token had no profile.
func TestRefreshKeepsAUserInfoProfile(t *testing.T) {
	for _, tc := range []struct {
		name      string
		userinfo  bool
		wantCalls int32 // userinfo calls at sign-in plus refresh
	}{
		{"AUTH_<ID>_USERINFO=1", true, 2},
		{"ID token without profile", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := newProfileOP(t)
			p, err := oidc.New(oidc.Config{
				ID: "panva", Issuer: op.srv.URL, ClientID: clientID, ClientSecret: secret,
				RedirectURL: callback, UserInfo: tc.userinfo,
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Exchange(bg(), "code-1", oidc.NewVerifier(), "nonce-1")
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			mgr := newManager(t, memstore.New(memstore.Options{}))
			c := res.Claims
			token, s, err := mgr.Create(bg(), session.Data{
				Provider: "panva", Issuer: c.Issuer, Subject: c.Subject,
				User: session.User{ID: c.Subject, Name: c.DisplayName(), Email: c.Email, Image: c.Picture, Groups: c.Groups},
				Tokens: session.Tokens{
					IDToken: res.Tokens.IDToken, AccessToken: res.Tokens.AccessToken, RefreshToken: res.Tokens.RefreshToken,
					TokenType: "Bearer", AccessExpiry: res.Tokens.Expiry,
				},
			}, session.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			before := s.Data.User
			if before.Name != "Ada Lovelace" || before.Email != "ada@example.com" {
				t.Fatalf("signed in with user %+v", before)
			}
			co, err := refresh.New(refresh.Options{
				Sessions: mgr, Margin: 2 * time.Hour, // every token is due
				Provider: func(id string) (refresh.Provider, bool) {
					return refresh.Provider{Client: p, ClientID: clientID, Issuer: op.srv.URL}, id == "panva"
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := co.IfDue(ctx(t), token, s)
			if err != nil || out == nil || out.Data.Tokens.AccessToken == s.Data.Tokens.AccessToken {
				t.Fatalf("IfDue = %+v, %v; want refreshed tokens", out, err)
			}
			stored, err := mgr.Load(ctx(t), token)
			if err != nil {
				t.Fatal(err)
			}
			for where, u := range map[string]session.User{"returned": out.Data.User, "stored": stored.Data.User} {
				if u.Name != before.Name || u.Email != before.Email {
					t.Errorf("%s user after refresh = %+v, want %+v", where, u, before)
				}
			}
			if n := op.userinfoN.Load(); n != tc.wantCalls {
				t.Errorf("%d userinfo calls, want %d", n, tc.wantCalls)
			}
		})
	}
}

func TestAccessExpired(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		tokens  session.Tokens
		expired bool
	}{
		{"no refresh token, expired", session.Tokens{AccessToken: "a", AccessExpiry: now.Add(-time.Second)}, true},
		{"no refresh token, expiring now", session.Tokens{AccessToken: "a", AccessExpiry: now}, true},
		{"no refresh token, still valid", session.Tokens{AccessToken: "a", AccessExpiry: now.Add(time.Second)}, false},
		{"no refresh token, unknown expiry", session.Tokens{AccessToken: "a"}, false},
		{"expired but renewable", session.Tokens{AccessToken: "a", RefreshToken: "r", AccessExpiry: now.Add(-time.Hour)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refresh.AccessExpired(&session.Data{Tokens: tt.tokens}, now); got != tt.expired {
				t.Fatalf("AccessExpired = %v, want %v", got, tt.expired)
			}
		})
	}
}

// TestExpiredWithoutRefreshTokenIsReported: a session without a refresh
// token (Dex without offline_access) keeps answering clean until its
// access token expires, then carries ExpiredCode; the IdP is never asked
// and the stored session is not rewritten.
func TestExpiredWithoutRefreshTokenIsReported(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	s := *f.sess
	s.Data.Tokens.RefreshToken = ""
	s.Data.Tokens.AccessExpiry = f.clock.Now().Add(time.Minute) // due (2h margin) but not expired
	got, err := f.co.IfDue(ctx(t), f.token, &s)
	if err != nil || got != &s || got.Data.RefreshError != "" {
		t.Fatalf("IfDue before expiry = %+v, %v; want the session untouched", got, err)
	}
	f.clock.Advance(time.Minute)
	got, err = f.co.IfDue(ctx(t), f.token, &s)
	if err != nil || got == nil || got.Data.RefreshError != refresh.ExpiredCode {
		t.Fatalf("IfDue after expiry = %+v, %v; want RefreshError %q", got, err, refresh.ExpiredCode)
	}
	if s.Data.RefreshError != "" || got.Data.User.Name != s.Data.User.Name {
		t.Fatalf("caller's session changed (%q) or user lost (%+v)", s.Data.RefreshError, got.Data.User)
	}
	if forced, err := f.co.Force(ctx(t), f.token, &s); err != nil || forced != &s {
		t.Fatalf("Force without refresh token = %+v, %v; want the session as is", forced, err)
	}
	if n := f.idp.Attempts.Load(); n != 0 {
		t.Fatalf("%d refresh grants without a refresh token", n)
	}
	stored, err := f.mgr.Load(ctx(t), f.token)
	if err != nil || stored.Data.RefreshError != "" {
		t.Fatalf("stored session = %+v, %v; want it not rewritten", stored, err)
	}
}
