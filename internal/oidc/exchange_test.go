package oidc

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestExchangeBaseline(t *testing.T) {
	s, pub := newRSA(t, "k1")
	op := newFakeOP(t, pub)
	claims := op.claims()
	claims["at_hash"] = atHash("access-1")
	op.setToken(tokenOK(sign(t, s, claims), nil))
	p := newProvider(t, op, nil)

	res, err := p.Exchange(context.Background(), "the-code", "verifier-xyz", testNonce)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if res.Tokens.AccessToken != "access-1" || res.Tokens.RefreshToken != "refresh-1" || res.Tokens.IDToken == "" {
		t.Errorf("tokens = %+v", res.Tokens)
	}
	if !res.Tokens.Expiry.Equal(t0.Add(time.Hour)) {
		t.Errorf("expiry = %v, want %v (from the injected clock)", res.Tokens.Expiry, t0.Add(time.Hour))
	}
	if res.Claims.Subject != "user-1" {
		t.Errorf("sub = %q", res.Claims.Subject)
	}
	req := op.lastTokenReq(t)
	want := map[string]string{
		"grant_type":    "authorization_code",
		"code":          "the-code",
		"code_verifier": "verifier-xyz",
		"redirect_uri":  "http://localhost:3000/api/auth/callback/cognito",
		"client_id":     testClientID,
		"client_secret": testClientSecret, // default with a secret: client_secret_post
	}
	for k, v := range want {
		if got := strings.Join(req.Form[k], ","); got != v {
			t.Errorf("form %s = %q, want %q", k, got, v)
		}
	}
	if req.AuthHeader != "" {
		t.Errorf("Authorization header sent with client_secret_post: %q", req.AuthHeader)
	}
}

func TestExchangeAuthStyleOnTheWire(t *testing.T) {
	s, pub := newRSA(t, "k1")
	tests := []struct {
		name       string
		style      AuthStyle
		secret     string
		basicOnly  bool
		wantBasic  bool
		wantSecret bool
		wantErr    string // token endpoint Error code
	}{
		{name: "basic", style: AuthStyleBasic, secret: testClientSecret, wantBasic: true},
		{name: "basic against basic-only endpoint", style: AuthStyleBasic, secret: testClientSecret, basicOnly: true, wantBasic: true},
		{name: "post", style: AuthStylePost, secret: testClientSecret, wantSecret: true},
		{name: "default with secret is post", secret: testClientSecret, wantSecret: true},
		{name: "public client", style: AuthStyleNone},
		{name: "default without secret is public", secret: ""},
		{name: "post against basic-only fails once, no retry", style: AuthStylePost, secret: testClientSecret, basicOnly: true, wantSecret: true, wantErr: "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := newFakeOP(t, pub)
			idt := sign(t, s, op.claims())
			ok := tokenOK(idt, nil)
			op.setToken(func(w http.ResponseWriter, r *http.Request) {
				if tt.basicOnly {
					if _, _, has := r.BasicAuth(); !has || r.PostForm.Get("client_secret") != "" {
						writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client"})
						return
					}
				}
				ok(w, r)
			})
			p := newProvider(t, op, func(c *Config) { c.AuthStyle = tt.style; c.ClientSecret = tt.secret })
			_, err := p.Exchange(context.Background(), "code", "verifier", testNonce)
			if tt.wantErr != "" {
				if !errors.Is(err, &Error{Endpoint: EndpointToken, Code: tt.wantErr}) {
					t.Fatalf("err = %v, want a token endpoint Error %s", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if n := op.tokenHits.Load(); n != 1 {
				t.Fatalf("token endpoint hits = %d, want exactly 1 (never retry with another style)", n)
			}
			req := op.lastTokenReq(t)
			if got := req.Form["client_id"]; tt.wantBasic == (len(got) == 1) {
				t.Errorf("client_id in form = %v with basic=%v", got, tt.wantBasic)
			}
			if got := req.Form.Get("client_secret"); (got == testClientSecret) != tt.wantSecret {
				t.Errorf("client_secret in form = %q, want present=%v", got, tt.wantSecret)
			}
			if tt.wantBasic {
				if !strings.HasPrefix(req.AuthHeader, "Basic ") {
					t.Fatalf("Authorization = %q, want Basic", req.AuthHeader)
				}
				dec, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(req.AuthHeader, "Basic "))
				if !strings.HasPrefix(string(dec), testClientID+":") {
					t.Errorf("basic credentials = %q", dec)
				}
			} else if req.AuthHeader != "" {
				t.Errorf("unexpected Authorization header %q", req.AuthHeader)
			}
		})
	}
}

func TestExchangeTokenResponses(t *testing.T) {
	s, pub := newRSA(t, "k1")
	tests := []struct {
		name      string
		handler   func(op *fakeOP, idt string) http.HandlerFunc
		wantErr   error // errors.Is target; nil = accept
		transient bool  // IsTransient on the error
		check     func(t *testing.T, res *Result)
	}{
		{
			name: "lenient: bEARER, no expires_in, no scope",
			handler: func(_ *fakeOP, idt string) http.HandlerFunc {
				return tokenOK(idt, map[string]any{"token_type": "bEARER", "expires_in": nil})
			},
			check: func(t *testing.T, res *Result) {
				if !res.Tokens.Expiry.IsZero() {
					t.Errorf("expiry = %v, want zero without expires_in", res.Tokens.Expiry)
				}
			},
		},
		{
			name: "html with 200",
			handler: func(*fakeOP, string) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					_, _ = w.Write([]byte("<html><body>Sign in</body></html>"))
				}
			},
			wantErr: &Error{Endpoint: EndpointToken, Code: "invalid_response"}, transient: true,
		},
		{
			name: "html error page 502",
			handler: func(*fakeOP, string) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					w.WriteHeader(http.StatusBadGateway)
					_, _ = w.Write([]byte("<html>Bad gateway</html>"))
				}
			},
			wantErr: &Error{Endpoint: EndpointToken, Code: "invalid_response"}, transient: true,
		},
		{
			name: "non-json json",
			handler: func(*fakeOP, string) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte("access_token=abc"))
				}
			},
			wantErr: &Error{Endpoint: EndpointToken, Code: "invalid_response"}, transient: true,
		},
		{
			name: "no access_token",
			handler: func(_ *fakeOP, idt string) http.HandlerFunc {
				return tokenOK(idt, map[string]any{"access_token": nil})
			},
			wantErr: &Error{Endpoint: EndpointToken, Code: "invalid_response"}, transient: true,
		},
		{
			name: "no id_token",
			handler: func(_ *fakeOP, idt string) http.HandlerFunc {
				return tokenOK(idt, map[string]any{"id_token": nil})
			},
			wantErr: ErrInvalidResponse,
		},
		{
			name: "token_type mac",
			handler: func(_ *fakeOP, idt string) http.HandlerFunc {
				return tokenOK(idt, map[string]any{"token_type": "mac"})
			},
			wantErr: ErrInvalidResponse,
		},
		{
			name: "token_type missing",
			handler: func(_ *fakeOP, idt string) http.HandlerFunc {
				return tokenOK(idt, map[string]any{"token_type": nil})
			},
			wantErr: ErrInvalidResponse,
		},
		{
			name: "redirect is not followed",
			handler: func(op *fakeOP, _ string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, op.srv.URL+"/trap", http.StatusFound)
				}
			},
			wantErr: &Error{Endpoint: EndpointToken, Code: "invalid_response", Status: http.StatusFound}, transient: true,
		},
		{
			name: "invalid_grant is fatal",
			handler: func(*fakeOP, string) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "code used"})
				}
			},
			wantErr: &Error{Endpoint: EndpointToken, Code: "invalid_grant"},
		},
		{
			name: "error with 200 status",
			handler: func(*fakeOP, string) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					writeJSON(w, http.StatusOK, map[string]string{"error": "unauthorized_client", "error_description": "invalid_redirect"})
				}
			},
			wantErr: &Error{Endpoint: EndpointToken, Code: "unauthorized_client"},
		},
		{
			name: "oversized body",
			handler: func(_ *fakeOP, idt string) http.HandlerFunc {
				return tokenOK(idt, map[string]any{"padding": strings.Repeat("x", 2<<20)})
			},
			wantErr: &Error{Endpoint: EndpointToken, Code: "invalid_response"}, transient: true,
		},
		{
			name: "at_hash wrong",
			handler: func(op *fakeOP, _ string) http.HandlerFunc {
				c := op.claims()
				c["at_hash"] = atHash("another-access-token")
				return tokenOK(sign(t, s, c), nil)
			},
			wantErr: ErrInvalidIDToken,
		},
		{
			name: "nonce mismatch",
			handler: func(op *fakeOP, _ string) http.HandlerFunc {
				c := op.claims()
				c["nonce"] = "replayed"
				return tokenOK(sign(t, s, c), nil)
			},
			wantErr: ErrInvalidIDToken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := newFakeOP(t, pub)
			op.setToken(tt.handler(op, sign(t, s, op.claims())))
			p := newProvider(t, op, nil)
			res, err := p.Exchange(context.Background(), "code", "verifier", testNonce)
			if n := op.tokenHits.Load(); n != 1 {
				t.Errorf("token endpoint hits = %d, want 1", n)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("want accept, got %v", err)
				}
				if tt.check != nil {
					tt.check(t, res)
				}
				return
			}
			if res != nil || !errors.Is(err, tt.wantErr) {
				t.Fatalf("res=%v err=%v, want %v", res, err, tt.wantErr)
			}
			var te *Error
			if want, ok := tt.wantErr.(*Error); ok && want.Status != 0 {
				if !errors.As(err, &te) || te.Status != want.Status {
					t.Errorf("status = %+v, want %d", te, want.Status)
				}
			}
			if got := IsTransient(err); got != tt.transient {
				t.Errorf("IsTransient = %v, want %v", got, tt.transient)
			}
			if op.trapHits.Load() != 0 {
				t.Errorf("redirect target was fetched")
			}
		})
	}
}

func TestExchangeUserInfo(t *testing.T) {
	s, pub := newRSA(t, "k1")
	tests := []struct {
		name    string
		body    map[string]any
		wantErr bool
	}{
		{name: "same sub, cognito string email_verified", body: map[string]any{"sub": "user-1", "email": "ada@example.com", "email_verified": "true", "name": "Ada L."}},
		{name: "sub mismatch", body: map[string]any{"sub": "user-2"}, wantErr: true},
		{name: "sub missing", body: map[string]any{"email": "x@y"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := newFakeOP(t, pub)
			c := op.claims()
			delete(c, "email_verified")
			op.setToken(tokenOK(sign(t, s, c), nil))
			var gotAuth string
			op.userinfo = func(w http.ResponseWriter, r *http.Request) {
				gotAuth = r.Header.Get("Authorization")
				writeJSON(w, http.StatusOK, tt.body)
			}
			p := newProvider(t, op, func(c *Config) { c.UserInfo = true })
			res, err := p.Exchange(context.Background(), "code", "verifier", testNonce)
			if gotAuth != "Bearer access-1" {
				t.Errorf("userinfo Authorization = %q", gotAuth)
			}
			if tt.wantErr {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !res.Claims.EmailVerified || res.Claims.Name != "Ada L." {
				t.Errorf("merged claims = %+v", res.Claims)
			}
		})
	}
	t.Run("mismatch is ErrInvalidIDToken", func(t *testing.T) {
		op := newFakeOP(t, pub)
		op.setToken(tokenOK(sign(t, s, op.claims()), nil))
		op.userinfo = func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"sub": "evil"})
		}
		p := newProvider(t, op, func(c *Config) { c.UserInfo = true })
		if _, err := p.Exchange(context.Background(), "code", "verifier", testNonce); !errors.Is(err, ErrInvalidIDToken) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRefresh(t *testing.T) {
	s, pub := newRSA(t, "k1")
	newOP := func(t *testing.T) (*fakeOP, *Provider, *Claims) {
		t.Helper()
		op := newFakeOP(t, pub)
		p := newProvider(t, op, nil)
		prev, err := p.VerifyIDToken(context.Background(), sign(t, s, op.claims()), testNonce)
		if err != nil {
			t.Fatal(err)
		}
		return op, p, prev
	}
	idNoNonce := func(op *fakeOP, mut func(map[string]any)) string {
		c := op.claims()
		delete(c, "nonce")
		if mut != nil {
			mut(c)
		}
		return sign(t, s, c)
	}

	t.Run("keeps refresh token when none returned", func(t *testing.T) {
		op, p, prev := newOP(t)
		op.setToken(tokenOK(idNoNonce(op, nil), map[string]any{"refresh_token": nil, "access_token": "access-2"}))
		res, err := p.Refresh(context.Background(), "refresh-old", prev)
		if err != nil {
			t.Fatal(err)
		}
		if res.Tokens.RefreshToken != "refresh-old" || res.Tokens.AccessToken != "access-2" {
			t.Errorf("tokens = %+v", res.Tokens)
		}
		req := op.lastTokenReq(t)
		if req.Form.Get("grant_type") != "refresh_token" || req.Form.Get("refresh_token") != "refresh-old" {
			t.Errorf("form = %v", req.Form)
		}
	})
	t.Run("rotated refresh token and no id token", func(t *testing.T) {
		op, p, prev := newOP(t)
		op.setToken(tokenOK("", map[string]any{"id_token": nil, "refresh_token": "refresh-new"}))
		res, err := p.Refresh(context.Background(), "refresh-old", prev)
		if err != nil {
			t.Fatal(err)
		}
		c := res.Claims
		if res.Tokens.RefreshToken != "refresh-new" || c == nil || c.Subject != prev.Subject || c.Issuer != prev.Issuer ||
			c.Email != prev.Email || c.DisplayName() != prev.DisplayName() || !slices.Equal(c.Groups, prev.Groups) {
			t.Errorf("res = %+v, claims %+v; want prev's identity and profile", res, c)
		}
	})
	for _, tc := range []struct {
		name string
		mut  func(map[string]any)
	}{
		{"sub changed", func(c map[string]any) { c["sub"] = "user-2" }},
		{"aud changed", func(c map[string]any) { c["aud"] = []string{testClientID, "x"}; c["azp"] = testClientID }},
	} {
		t.Run("identity change: "+tc.name, func(t *testing.T) {
			op, p, prev := newOP(t)
			op.setToken(tokenOK(idNoNonce(op, tc.mut), nil))
			_, err := p.Refresh(context.Background(), "refresh-old", prev)
			if !errors.Is(err, ErrInvalidIDToken) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("iss changed is refused", func(t *testing.T) {
		op, p, prev := newOP(t)
		changed := *prev
		changed.Issuer = "https://other.example"
		op.setToken(tokenOK(idNoNonce(op, nil), nil))
		if _, err := p.Refresh(context.Background(), "r", &changed); !errors.Is(err, ErrInvalidIDToken) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("invalid_grant is fatal", func(t *testing.T) {
		op, p, prev := newOP(t)
		op.setToken(func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Refresh Token has been revoked"})
		})
		_, err := p.Refresh(context.Background(), "r", prev)
		if !errors.Is(err, &Error{Endpoint: EndpointToken, Code: "invalid_grant"}) || IsTransient(err) {
			t.Fatalf("err = %v transient=%v", err, IsTransient(err))
		}
	})
	t.Run("5xx is transient", func(t *testing.T) {
		op, p, prev := newOP(t)
		op.setToken(func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable"})
		})
		if _, err := p.Refresh(context.Background(), "r", prev); !IsTransient(err) {
			t.Fatalf("err = %v, want transient", err)
		}
	})
	t.Run("network error is transient", func(t *testing.T) {
		op, p, prev := newOP(t)
		if err := p.Discover(context.Background()); err != nil {
			t.Fatal(err)
		}
		op.srv.Close()
		_, err := p.Refresh(context.Background(), "r", prev)
		if err == nil || !IsTransient(err) {
			t.Fatalf("err = %v, want transient", err)
		}
		var te *Error
		if errors.As(err, &te) {
			t.Fatalf("network error reported as an OAuth Error %v", te)
		}
	})
}
