package oidc

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// panvaClaims are the claims of an ID token from a provider that keeps the
// profile out of it (panva's oidc-provider by default, OpenID Core 5.4):
// identity only.
func panvaClaims(op *fakeOP, nonce string) map[string]any {
	c := op.claims()
	for _, k := range []string{"email", "email_verified", "cognito:username", "cognito:groups", "token_use"} {
		delete(c, k)
	}
	if nonce == "" {
		delete(c, "nonce")
	}
	return c
}

// userinfoOP makes op serve profile at userinfo for the access token want
// (any token when want is ""), counting calls.
func userinfoOP(t *testing.T, op *fakeOP, profile map[string]any, want string) *atomic.Int32 {
	t.Helper()
	var n atomic.Int32
	op.mu.Lock()
	defer op.mu.Unlock()
	op.userinfo = func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if want != "" && r.Header.Get("Authorization") != "Bearer "+want {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
			return
		}
		writeJSON(w, http.StatusOK, profile)
	}
	return &n
}

var adaProfile = map[string]any{
	"sub": "user-1", "name": "Ada Lovelace", "email": "ada@example.com", "email_verified": true,
	"picture": "https://img.example/ada.png", "groups": []string{"admins"},
}

func TestExchangeReadsUserInfoWhenTheIDTokenHasNoProfile(t *testing.T) {
	es, pub := newSigner(t, jwa.ES256, "es")
	newOP := func(t *testing.T, logs *syncBuf, mut func(*Config)) (*fakeOP, *Provider) {
		op := newFakeOP(t, pub)
		op.discMut = func(d map[string]any) { d["id_token_signing_alg_values_supported"] = []string{"ES256"} }
		op.setToken(tokenOK(sign(t, es, panvaClaims(op, testNonce)), nil))
		return op, newProvider(t, op, func(c *Config) {
			c.ID, c.Cognito = "panva", false
			c.Logger = slog.New(slog.NewTextHandler(logs, nil))
			if mut != nil {
				mut(c)
			}
		})
	}

	t.Run("profile from userinfo", func(t *testing.T) {
		var logs syncBuf
		op, p := newOP(t, &logs, nil)
		calls := userinfoOP(t, op, adaProfile, "access-1")
		res, err := p.Exchange(context.Background(), "code", "verifier", testNonce)
		if err != nil {
			t.Fatal(err)
		}
		c := res.Claims
		if c.DisplayName() != "Ada Lovelace" || c.Email != "ada@example.com" || !c.EmailVerified ||
			c.Picture != "https://img.example/ada.png" || !slices.Equal(c.Groups, []string{"admins"}) || calls.Load() != 1 {
			t.Fatalf("claims = %+v after %d userinfo calls", c, calls.Load())
		}
		if strings.Contains(logs.String(), "without a name or email") {
			t.Errorf("no-profile warning although userinfo gave one: %s", logs.String())
		}
	})
	t.Run("an ID token with a profile does not cost a userinfo call", func(t *testing.T) {
		op, p := newOP(t, &syncBuf{}, nil)
		op.setToken(tokenOK(sign(t, es, op.claims()), nil))
		calls := userinfoOP(t, op, adaProfile, "")
		if _, err := p.Exchange(context.Background(), "code", "verifier", testNonce); err != nil || calls.Load() != 0 {
			t.Fatalf("err = %v, %d userinfo calls; want none", err, calls.Load())
		}
	})
	t.Run("userinfo down: signed in without profile, warned once", func(t *testing.T) {
		var logs syncBuf
		op, p := newOP(t, &logs, nil)
		op.userinfo = func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }
		for range 3 {
			res, err := p.Exchange(context.Background(), "code", "verifier", testNonce)
			if err != nil || res.Claims.Subject != "user-1" || hasProfile(res.Claims) {
				t.Fatalf("Exchange = %+v, %v; want a sign-in without profile", res, err)
			}
		}
		if n := strings.Count(logs.String(), "without a name or email"); n != 1 {
			t.Fatalf("%d no-profile warnings in 3 sign-ins, want 1:\n%s", n, logs.String())
		}
	})
	t.Run("no userinfo endpoint: warned once", func(t *testing.T) {
		var logs syncBuf
		op, p := newOP(t, &logs, nil)
		op.discMut = func(d map[string]any) {
			d["id_token_signing_alg_values_supported"] = []string{"ES256"}
			delete(d, "userinfo_endpoint")
		}
		for range 2 {
			if _, err := p.Exchange(context.Background(), "code", "verifier", testNonce); err != nil {
				t.Fatal(err)
			}
		}
		if n := strings.Count(logs.String(), "without a name or email"); n != 1 {
			t.Fatalf("%d no-profile warnings, want 1:\n%s", n, logs.String())
		}
	})
	t.Run("userinfo sub mismatch is refused", func(t *testing.T) {
		op, p := newOP(t, &syncBuf{}, nil)
		userinfoOP(t, op, map[string]any{"sub": "someone-else", "name": "Eve"}, "")
		if _, err := p.Exchange(context.Background(), "code", "verifier", testNonce); !errors.Is(err, ErrInvalidIDToken) {
			t.Fatalf("err = %v, want ErrInvalidIDToken", err)
		}
	})
	t.Run("configured userinfo failing refuses the sign-in", func(t *testing.T) {
		op, p := newOP(t, &syncBuf{}, func(c *Config) { c.UserInfo = true })
		op.userinfo = func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }
		if _, err := p.Exchange(context.Background(), "code", "verifier", testNonce); err == nil {
			t.Fatal("sign-in accepted although the configured userinfo failed")
		}
	})
}

func TestExchangeNoRefreshTokenHint(t *testing.T) {
	s, pub := newRSA(t, "k1")
	for _, tc := range []struct {
		name     string
		scopes   []string
		listed   []string
		wantHint string
	}{
		{"offline_access listed, not asked", nil, []string{"openid", "offline_access"}, "add offline_access"},
		{"offline_access already asked", []string{"openid", "offline_access"}, []string{"openid", "offline_access"}, "refresh_token grant"},
		{"offline_access not offered", nil, []string{"openid"}, "refresh_token grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuf
			op := newFakeOP(t, pub)
			op.discMut = func(d map[string]any) { d["scopes_supported"] = tc.listed }
			op.setToken(tokenOK(sign(t, s, op.claims()), map[string]any{"refresh_token": nil}))
			p := newProvider(t, op, func(c *Config) {
				c.Cognito, c.Scopes, c.Logger = false, tc.scopes, slog.New(slog.NewTextHandler(&logs, nil))
			})
			for range 2 {
				if _, err := p.Exchange(context.Background(), "code", "verifier", testNonce); err != nil {
					t.Fatal(err)
				}
			}
			listed, asked, err := p.OfflineAccess(context.Background())
			if err != nil || listed != slices.Contains(tc.listed, "offline_access") || asked != slices.Contains(tc.scopes, "offline_access") {
				t.Errorf("OfflineAccess = %v, %v, %v", listed, asked, err)
			}
			out := logs.String()
			if strings.Count(out, "no refresh token") != 1 || !strings.Contains(out, tc.wantHint) {
				t.Fatalf("logs = %s; want one no-refresh-token line with %q", out, tc.wantHint)
			}
		})
	}
}

func TestRefreshKeepsTheProfile(t *testing.T) {
	es, pub := newSigner(t, jwa.ES256, "es")
	// prev is the session's identity and profile, as refresh.Coordinator passes it.
	prev := func(op *fakeOP) *Claims {
		return &Claims{
			Issuer: op.issuer, Subject: "user-1", Audience: []string{testClientID},
			Name: "Ada Lovelace", Email: "ada@example.com", Picture: "https://img.example/ada.png", Groups: []string{"admins"},
		}
	}
	type want struct{ name, email, picture string }
	ada := want{"Ada Lovelace", "ada@example.com", "https://img.example/ada.png"}
	tests := []struct {
		name       string
		cognito    bool
		userinfo   bool                                         // Config.UserInfo
		idToken    func(op *fakeOP) string                      // "" = none in the answer
		serve      func(t *testing.T, op *fakeOP) *atomic.Int32 // userinfo behaviour
		want       want
		wantGroups []string
		wantCalls  int32
		wantErr    error
	}{
		{name: "refreshed ID token without profile claims keeps the profile",
			idToken: func(op *fakeOP) string { return sign(t, es, panvaClaims(op, "")) },
			want:    ada, wantGroups: []string{"admins"}},
		{name: "no ID token in the refresh answer keeps the profile",
			want: ada, wantGroups: []string{"admins"}},
		{name: "a refreshed ID token's own claims win",
			idToken: func(op *fakeOP) string {
				c := panvaClaims(op, "")
				c["name"], c["email"], c["groups"] = "Ada King", "ada@king.example", []string{"users"}
				return sign(t, es, c)
			},
			want: want{"Ada King", "ada@king.example", "https://img.example/ada.png"}, wantGroups: []string{"users"}},
		{name: "configured userinfo is re-read with the new access token", userinfo: true,
			idToken: func(op *fakeOP) string { return sign(t, es, panvaClaims(op, "")) },
			serve: func(t *testing.T, op *fakeOP) *atomic.Int32 {
				return userinfoOP(t, op, map[string]any{"sub": "user-1", "name": "Ada K. Lovelace", "email": "ada@example.com"}, "access-1")
			},
			want: want{"Ada K. Lovelace", "ada@example.com", "https://img.example/ada.png"}, wantGroups: []string{"admins"}, wantCalls: 1},
		{name: "configured userinfo failing keeps the refresh and the profile", userinfo: true,
			idToken: func(op *fakeOP) string { return sign(t, es, panvaClaims(op, "")) },
			serve: func(t *testing.T, op *fakeOP) *atomic.Int32 {
				return userinfoOP(t, op, nil, "not-the-token")
			},
			want: ada, wantGroups: []string{"admins"}, wantCalls: 1},
		{name: "userinfo naming someone else ends it", userinfo: true,
			serve: func(t *testing.T, op *fakeOP) *atomic.Int32 {
				return userinfoOP(t, op, map[string]any{"sub": "user-2", "name": "Eve"}, "")
			},
			wantErr: ErrInvalidIDToken, wantCalls: 1},
		{name: "a known profile costs no userinfo call",
			idToken: func(op *fakeOP) string { return sign(t, es, panvaClaims(op, "")) },
			serve: func(t *testing.T, op *fakeOP) *atomic.Int32 {
				return userinfoOP(t, op, adaProfile, "")
			},
			want: ada, wantGroups: []string{"admins"}},
		{name: "Cognito: no cognito:groups in the refreshed ID token means no groups", cognito: true,
			idToken: func(op *fakeOP) string {
				c := op.claims()
				delete(c, "nonce")
				delete(c, "cognito:groups")
				return sign(t, es, c)
			},
			want: want{"ada", "ada@example.com", "https://img.example/ada.png"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := newFakeOP(t, pub)
			op.discMut = func(d map[string]any) { d["id_token_signing_alg_values_supported"] = []string{"ES256"} }
			var calls *atomic.Int32
			if tt.serve != nil {
				calls = tt.serve(t, op)
			}
			extra := map[string]any{"refresh_token": "refresh-2"}
			idt := ""
			if tt.idToken != nil {
				idt = tt.idToken(op)
			} else {
				extra["id_token"] = nil
			}
			op.setToken(tokenOK(idt, extra))
			p := newProvider(t, op, func(c *Config) {
				c.ID, c.Cognito, c.UserInfo = "panva", tt.cognito, tt.userinfo
				if tt.cognito {
					c.AllowedAlgs = []string{"ES256"} // the fake signs ES256; Cognito's own rule is tested elsewhere
				}
			})
			before := prev(op)
			res, err := p.Refresh(context.Background(), "refresh-1", before)
			if got := int32(0); calls != nil {
				got = calls.Load()
				if got != tt.wantCalls {
					t.Errorf("%d userinfo calls, want %d", got, tt.wantCalls)
				}
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := res.Claims
			got := want{c.DisplayName(), c.Email, c.Picture}
			if got != tt.want || !slices.Equal(c.Groups, tt.wantGroups) || c.Subject != "user-1" {
				t.Fatalf("profile = %+v groups %v, want %+v groups %v", got, c.Groups, tt.want, tt.wantGroups)
			}
			if res.Tokens.AccessToken != "access-1" || res.Tokens.RefreshToken != "refresh-2" {
				t.Fatalf("tokens = %+v", res.Tokens)
			}
			if before.Name != "Ada Lovelace" || !slices.Equal(before.Groups, []string{"admins"}) {
				t.Fatalf("prev was modified: %+v", before)
			}
		})
	}
}

func TestRefreshHealsAnEmptyProfileFromUserInfo(t *testing.T) {
	es, pub := newSigner(t, jwa.ES256, "es")
	op := newFakeOP(t, pub)
	op.discMut = func(d map[string]any) { d["id_token_signing_alg_values_supported"] = []string{"ES256"} }
	op.setToken(tokenOK(sign(t, es, panvaClaims(op, "")), nil))
	calls := userinfoOP(t, op, adaProfile, "access-1")
	p := newProvider(t, op, func(c *Config) { c.Cognito = false })
	res, err := p.Refresh(context.Background(), "r", &Claims{Issuer: op.issuer, Subject: "user-1", Audience: []string{testClientID}})
	if err != nil || res.Claims.DisplayName() != "Ada Lovelace" || res.Claims.Email != "ada@example.com" || calls.Load() != 1 {
		t.Fatalf("Refresh = %+v, %v after %d userinfo calls; want the profile read from userinfo", res, err, calls.Load())
	}
}
