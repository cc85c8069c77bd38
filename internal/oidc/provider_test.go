package oidc

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestNewValidation(t *testing.T) {
	base := Config{ID: "x", Issuer: "https://idp.example/pool", ClientID: "c", RedirectURL: "http://localhost:3000/api/auth/callback/x"}
	tests := []struct {
		name string
		mut  func(*Config)
		ok   bool
	}{
		{"https issuer", func(*Config) {}, true},
		{"http localhost", func(c *Config) { c.Issuer = "http://localhost:9000/pool" }, true},
		{"http 127.0.0.2", func(c *Config) { c.Issuer = "http://127.0.0.2:9000" }, true},
		{"http ::1", func(c *Config) { c.Issuer = "http://[::1]:9000" }, true},
		{"http off loopback", func(c *Config) { c.Issuer = "http://idp.example/pool" }, false},
		{"http 10.0.0.1", func(c *Config) { c.Issuer = "http://10.0.0.1/pool" }, false},
		{"http localhost.evil.com", func(c *Config) { c.Issuer = "http://localhost.evil.com/pool" }, false},
		{"relative issuer", func(c *Config) { c.Issuer = "/pool" }, false},
		{"no client id", func(c *Config) { c.ClientID = "" }, false},
		{"no redirect url", func(c *Config) { c.RedirectURL = "" }, false},
		{"alg none", func(c *Config) { c.AllowedAlgs = []string{"none"} }, false},
		{"alg HS256", func(c *Config) { c.AllowedAlgs = []string{"RS256", "HS256"} }, false},
		{"alg ES256", func(c *Config) { c.AllowedAlgs = []string{"ES256"} }, true},
		{"skew too large", func(c *Config) { c.ClockSkew = 5 * time.Minute }, false},
		{"basic without secret", func(c *Config) { c.AuthStyle = AuthStyleBasic }, false},
		{"public client with secret", func(c *Config) { c.AuthStyle = AuthStyleNone; c.ClientSecret = "s" }, false},
		{"cognito domain http off loopback", func(c *Config) { c.CognitoDomain = "http://x.auth.us-east-1.amazoncognito.com" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mut(&cfg)
			_, err := New(cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestDiscover(t *testing.T) {
	_, pub := newRSA(t, "k1")
	t.Run("issuer mismatch", func(t *testing.T) {
		op := newFakeOP(t, pub)
		op.discMut = func(d map[string]any) { d["issuer"] = op.issuer + "/" }
		p := newProvider(t, op, nil)
		if err := p.Discover(context.Background()); !errors.Is(err, ErrDiscovery) {
			t.Fatalf("err = %v", err)
		}
		_, err := p.AuthCodeURL(context.Background(), "s", "n", NewVerifier(), nil)
		if !errors.Is(err, ErrDiscovery) {
			t.Fatalf("AuthCodeURL err = %v, want ErrDiscovery", err)
		}
	})
	t.Run("failure retried, success cached", func(t *testing.T) {
		op := newFakeOP(t, pub)
		op.discFail = 1
		p := newProvider(t, op, nil)
		ctx := context.Background()
		if err := p.Discover(ctx); !errors.Is(err, ErrDiscovery) || !IsTransient(err) {
			t.Fatalf("first: err = %v (transient %v)", err, IsTransient(err))
		}
		for range 3 {
			if err := p.Discover(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := op.discHits.Load(); n != 2 {
			t.Fatalf("discovery hits = %d, want 2", n)
		}
	})
	t.Run("endpoint off loopback http refused", func(t *testing.T) {
		op := newFakeOP(t, pub)
		op.discMut = func(d map[string]any) { d["token_endpoint"] = "http://evil.example/token" }
		p := newProvider(t, op, nil)
		if err := p.Discover(context.Background()); !errors.Is(err, ErrDiscovery) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestAuthCodeURL(t *testing.T) {
	_, pub := newRSA(t, "k1")
	op := newFakeOP(t, pub)
	p := newProvider(t, op, nil)
	verifier := NewVerifier()
	extra := url.Values{
		"identity_provider": {"Google"},
		"prompt":            {"login"},
		"redirect_uri":      {"https://evil.example/cb"},
		"client_id":         {"evil"},
		"state":             {"evil"},
		"nonce":             {"evil"},
		"scope":             {"openid aws.cognito.signin.user.admin"},
		"response_type":     {"token"},
		"code_challenge":    {"evil"},
		"request_uri":       {"https://evil.example/req"},
	}
	raw, err := p.AuthCodeURL(context.Background(), "st", "no", verifier, extra)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	if u.Scheme+"://"+u.Host+u.Path != op.srv.URL+"/oauth2/authorize" {
		t.Errorf("endpoint = %s", raw)
	}
	q := u.Query()
	want := map[string]string{
		"response_type":         "code",
		"client_id":             testClientID,
		"redirect_uri":          "http://localhost:3000/api/auth/callback/cognito",
		"scope":                 "openid profile email",
		"state":                 "st",
		"nonce":                 "no",
		"code_challenge":        PKCEChallenge(verifier),
		"code_challenge_method": "S256",
		"identity_provider":     "Google",
		"prompt":                "login",
		"request_uri":           "",
	}
	for k, v := range want {
		if len(q[k]) > 1 || q.Get(k) != v {
			t.Errorf("%s = %v, want %q", k, q[k], v)
		}
	}
	if _, err := p.AuthCodeURL(context.Background(), "", "n", verifier, nil); err == nil {
		t.Error("empty state accepted")
	}
}

func TestCognitoDomainEndpoints(t *testing.T) {
	s, pub := newRSA(t, "k1")
	op := newFakeOP(t, pub)
	op.setToken(tokenOK(sign(t, s, op.claims()), nil))
	p := newProvider(t, op, func(c *Config) { c.CognitoDomain = op.srv.URL + "/ui/" })
	ctx := context.Background()
	raw, err := p.AuthCodeURL(ctx, "s", "n", NewVerifier(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, op.srv.URL+"/ui/oauth2/authorize?") {
		t.Errorf("authorize = %s", raw)
	}
	if _, err := p.Exchange(ctx, "c", "v", testNonce); err != nil {
		t.Fatal(err)
	}
	if got := op.lastTokenReq(t).Path; got != "/ui/oauth2/token" {
		t.Errorf("token path = %s", got)
	}
	if err := p.Revoke(ctx, "refresh-1"); err != nil {
		t.Fatal(err)
	}
	if got := op.revokes[0].Path; got != "/ui/oauth2/revoke" {
		t.Errorf("revoke path = %s", got)
	}
}

func TestRevoke(t *testing.T) {
	_, pub := newRSA(t, "k1")
	tests := []struct {
		name       string
		mut        func(*Config)
		wantBasic  bool
		wantSecret bool
	}{
		{name: "cognito confidential uses basic", mut: nil, wantBasic: true},
		{name: "generic post", mut: func(c *Config) { c.Cognito = false }, wantSecret: true},
		{name: "generic basic", mut: func(c *Config) { c.Cognito = false; c.AuthStyle = AuthStyleBasic }, wantBasic: true},
		{name: "public client", mut: func(c *Config) { c.ClientSecret = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := newFakeOP(t, pub)
			p := newProvider(t, op, tt.mut)
			if err := p.Revoke(context.Background(), "refresh-1"); err != nil {
				t.Fatal(err)
			}
			r := op.revokes[0]
			if r.Form.Get("token") != "refresh-1" || r.Form.Get("token_type_hint") != "refresh_token" {
				t.Errorf("form = %v", r.Form)
			}
			if strings.HasPrefix(r.AuthHeader, "Basic ") != tt.wantBasic {
				t.Errorf("Authorization = %q, want basic=%v", r.AuthHeader, tt.wantBasic)
			}
			if (r.Form.Get("client_secret") != "") != tt.wantSecret {
				t.Errorf("client_secret in form = %q", r.Form.Get("client_secret"))
			}
			if !tt.wantBasic && r.Form.Get("client_id") != testClientID {
				t.Errorf("client_id = %q", r.Form.Get("client_id"))
			}
		})
	}
	t.Run("no endpoint", func(t *testing.T) {
		op := newFakeOP(t, pub)
		op.discMut = func(d map[string]any) { delete(d, "revocation_endpoint") }
		p := newProvider(t, op, func(c *Config) { c.Cognito = false })
		if err := p.Revoke(context.Background(), "r"); !errors.Is(err, ErrNotSupported) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestEndSessionURL(t *testing.T) {
	s, pub := newRSA(t, "k1")
	const after = "http://localhost:3000/"
	idWith := func(extra map[string]any) string {
		c := map[string]any{"iss": "x", "sub": "user-1"}
		for k, v := range extra {
			c[k] = v
		}
		return sign(t, s, c)
	}
	withSID, withLoginHint := idWith(map[string]any{"sid": "sid-42"}), idWith(map[string]any{"sid": "sid-42", "login_hint": "O.aHint"})
	tests := []struct {
		name    string
		idToken string // "idt" when empty
		mut     func(*Config)
		disc    func(op *fakeOP, d map[string]any)
		want    func(op *fakeOP) string
		wantErr error
	}{
		{
			name: "cognito with domain",
			mut:  func(c *Config) { c.CognitoDomain = "https://x.auth.us-east-1.amazoncognito.com" },
			want: func(*fakeOP) string {
				return "https://x.auth.us-east-1.amazoncognito.com/logout?client_id=" + testClientID + "&logout_uri=" + url.QueryEscape(after)
			},
		},
		{
			name: "cognito derived from discovery authorize endpoint",
			want: func(op *fakeOP) string {
				return op.srv.URL + "/logout?client_id=" + testClientID + "&logout_uri=" + url.QueryEscape(after)
			},
		},
		{
			name: "standard: client_id, no token in the URL",
			mut:  func(c *Config) { c.Cognito = false },
			want: func(op *fakeOP) string {
				return op.srv.URL + "/logout?client_id=" + testClientID + "&post_logout_redirect_uri=" + url.QueryEscape(after)
			},
		},
		{
			name: "standard: sid as logout_hint (Auth0)", idToken: withSID,
			mut: func(c *Config) { c.Cognito = false },
			want: func(op *fakeOP) string {
				return op.srv.URL + "/logout?client_id=" + testClientID + "&logout_hint=sid-42&post_logout_redirect_uri=" + url.QueryEscape(after)
			},
		},
		{
			name: "standard: login_hint claim as logout_hint (Entra)", idToken: withLoginHint,
			mut: func(c *Config) { c.Cognito = false },
			want: func(op *fakeOP) string {
				return op.srv.URL + "/logout?client_id=" + testClientID + "&logout_hint=O.aHint&post_logout_redirect_uri=" + url.QueryEscape(after)
			},
		},
		{
			name: "standard with LogoutIDTokenHint (Okta, Hydra)", idToken: withSID,
			mut: func(c *Config) { c.Cognito, c.LogoutIDTokenHint = false, true },
			want: func(op *fakeOP) string {
				return op.srv.URL + "/logout?client_id=" + testClientID + "&id_token_hint=" + withSID +
					"&logout_hint=sid-42&post_logout_redirect_uri=" + url.QueryEscape(after)
			},
		},
		{
			name: "cognito ignores LogoutIDTokenHint", idToken: withSID,
			mut: func(c *Config) { c.LogoutIDTokenHint = true },
			want: func(op *fakeOP) string {
				return op.srv.URL + "/logout?client_id=" + testClientID + "&logout_uri=" + url.QueryEscape(after)
			},
		},
		{
			name:    "standard without end_session_endpoint",
			mut:     func(c *Config) { c.Cognito = false },
			disc:    func(_ *fakeOP, d map[string]any) { delete(d, "end_session_endpoint") },
			wantErr: ErrNotSupported,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := newFakeOP(t, pub)
			if tt.disc != nil {
				op.discMut = func(d map[string]any) { tt.disc(op, d) }
			}
			p := newProvider(t, op, tt.mut)
			idt := tt.idToken
			if idt == "" {
				idt = "idt"
			}
			got, err := p.EndSessionURL(context.Background(), idt, after)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.want(op); got != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestValidateAuthResponse(t *testing.T) {
	const iss = "https://idp.example/pool"
	tests := []struct {
		name      string
		query     string
		wantCode  string
		wantState string
		wantErr   error // errors.Is target; *Error checked by As
		authErr   string
	}{
		{name: "ok", query: "code=c1&state=s1", wantCode: "c1", wantState: "s1"},
		{name: "iss matches", query: "code=c1&state=s1&iss=" + url.QueryEscape(iss), wantCode: "c1", wantState: "s1"},
		{name: "iss mismatch", query: "code=c1&state=s1&iss=https://evil.example", wantErr: ErrInvalidAuthResponse},
		{name: "code repeated", query: "code=c1&code=c2&state=s1", wantErr: ErrInvalidAuthResponse},
		{name: "state repeated", query: "code=c1&state=s1&state=s2", wantErr: ErrInvalidAuthResponse},
		{name: "code and error", query: "code=c1&state=s1&error=access_denied", wantErr: ErrInvalidAuthResponse},
		{name: "code missing", query: "state=s1", wantErr: ErrInvalidAuthResponse},
		{name: "state missing", query: "code=c1", wantErr: ErrInvalidAuthResponse},
		{name: "provider error", query: "error=access_denied&error_description=User+cancelled&state=s1", wantState: "s1", authErr: "access_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			code, state, err := ValidateAuthResponse(q, iss)
			if tt.authErr != "" {
				var ae *Error
				if !errors.As(err, &ae) || ae.Endpoint != EndpointAuthorization || ae.Code != tt.authErr || ae.Description != "User cancelled" || state != tt.wantState || code != "" {
					t.Fatalf("code=%q state=%q err=%v", code, state, err)
				}
				return
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || code != "" {
					t.Fatalf("code=%q err=%v", code, err)
				}
				return
			}
			if err != nil || code != tt.wantCode || state != tt.wantState {
				t.Fatalf("code=%q state=%q err=%v", code, state, err)
			}
		})
	}
}

func TestDiagnose(t *testing.T) {
	const cb = "http://localhost:3000/api/auth/callback/cognito"
	tests := []struct {
		code string
		want []string // substrings of Cause+Fix
	}{
		{"unauthorized_client", []string{"Authorization code grant", cb, "COGNITO_CLIENT_SECRET", "trailing slash"}},
		{"invalid_client", []string{"COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET", "regenerate"}},
		{"invalid_grant", []string{"Sign in again", "clock", "twice"}},
		{"invalid_request", []string{"bug", "log"}},
		{"unsupported_grant_type", []string{"bug"}},
		{"redirect_mismatch", []string{"Allowed callback URLs", cb}},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			d, ok := DiagnoseClient(tt.code, ClientSettings{ProviderID: "cognito", Cognito: true, CallbackURL: cb})
			if !ok || d.Cause == "" || d.Fix == "" {
				t.Fatalf("DiagnoseClient(%q) = %+v, %v", tt.code, d, ok)
			}
			all := d.Cause + " " + d.Fix
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("diagnosis lacks %q: %s", w, all)
				}
			}
		})
	}
	if _, ok := DiagnoseClient("server_error", ClientSettings{ProviderID: "cognito", Cognito: true, CallbackURL: cb}); ok {
		t.Error("unknown code diagnosed")
	}
}

func TestPKCEAndRandom(t *testing.T) {
	// RFC 7636 appendix B.
	if got := PKCEChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("challenge = %s", got)
	}
	v := NewVerifier()
	if len(v) < 43 || len(v) > 128 || strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "" {
		t.Errorf("verifier %q not RFC 7636", v)
	}
	if r1, r2 := RandomString(16), RandomString(16); NewVerifier() == v || r1 == r2 {
		t.Error("random values repeat")
	}
}

func TestDisplayName(t *testing.T) {
	tests := []struct {
		c    Claims
		want string
	}{
		{Claims{Name: "N", Nickname: "nick"}, "N"},
		{Claims{Nickname: "nick", PreferredUsername: "pu"}, "nick"},
		{Claims{PreferredUsername: "pu", CognitoUsername: "cu"}, "pu"},
		{Claims{CognitoUsername: "cu", GivenName: "G"}, "cu"},
		{Claims{GivenName: "Ada", FamilyName: "Lovelace"}, "Ada Lovelace"},
		{Claims{FamilyName: "Lovelace"}, "Lovelace"},
		{Claims{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.c.DisplayName(); got != tt.want {
				t.Errorf("DisplayName = %q, want %q", got, tt.want)
			}
		})
	}
}
