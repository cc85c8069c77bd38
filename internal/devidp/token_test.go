package devidp

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestCodeExchangeFailuresBurnTheCode(t *testing.T) {
	e := newEnv(t, nil)
	verifier, challenge := pkce("burn")
	tests := []struct {
		name      string
		form      func(code string) url.Values
		basicUser string
		basicPass string
		prepare   func()
		wantError string
		wantDesc  string
	}{
		{name: "wrong verifier", wantError: "invalid_grant", form: func(code string) url.Values {
			return codeForm(code, verifier+"x", testCallback)
		}},
		{name: "missing verifier", wantError: "invalid_grant", form: func(code string) url.Values {
			return codeForm(code, "", testCallback)
		}},
		{name: "redirect_uri differs", wantError: "unauthorized_client", wantDesc: "invalid_redirect", form: func(code string) url.Values {
			return codeForm(code, verifier, testCallback+"/")
		}},
		{name: "wrong secret", wantError: "invalid_client", form: func(code string) url.Values {
			f := codeForm(code, verifier, testCallback)
			f.Set("client_secret", "wrong")
			return f
		}},
		{name: "basic then post (x/oauth2 AutoDetect)", wantError: "invalid_client", basicUser: testClientID, basicPass: "wrong",
			form: func(code string) url.Values {
				f := codeForm(code, verifier, testCallback)
				f.Del("client_secret")
				f.Del("client_id")
				return f
			}},
		{name: "expired", wantError: "invalid_grant", prepare: func() { e.clock.Advance(5*time.Minute + time.Second) },
			form: func(code string) url.Values { return codeForm(code, verifier, testCallback) }},
		{name: "other client", wantError: "invalid_grant", form: func(code string) url.Values {
			f := codeForm(code, verifier, testCallback)
			f.Set("client_id", "rot")
			f.Set("client_secret", "r")
			return f
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := e.signIn(t, browser(t), authParams(testClientID, challenge), "ada")
			if tt.prepare != nil {
				tt.prepare()
			}
			status, body := e.tokenReq(t, tt.form(code), tt.basicUser, tt.basicPass)
			wantOAuthError(t, status, body, tt.wantError)
			if tt.wantDesc != "" && body["error_description"] != tt.wantDesc {
				t.Errorf("error_description = %v, want %s", body["error_description"], tt.wantDesc)
			}
			// The failed attempt burnt the code: a correct retry fails too.
			status, body = e.exchange(t, code, verifier)
			wantOAuthError(t, status, body, "invalid_grant")
		})
	}

	t.Run("reuse after success", func(t *testing.T) {
		code := e.signIn(t, browser(t), authParams(testClientID, challenge), "ada")
		if status, body := e.exchange(t, code, verifier); status != http.StatusOK {
			t.Fatalf("first exchange %d %v", status, body)
		}
		status, body := e.exchange(t, code, verifier)
		wantOAuthError(t, status, body, "invalid_grant")
	})

	t.Run("concurrent exchanges, one winner", func(t *testing.T) {
		code := e.signIn(t, browser(t), authParams(testClientID, challenge), "ada")
		var mu sync.Mutex
		wins := 0
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if status, _ := e.exchange(t, code, verifier); status == http.StatusOK {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d exchanges of one code succeeded, want 1", wins)
		}
	})
}

func codeForm(code, verifier, redirect string) url.Values {
	f := url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
		"client_id": {testClientID}, "client_secret": {testSecret},
	}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return f
}

func TestClientAuthentication(t *testing.T) {
	e := newEnv(t, nil)
	verifier, challenge := pkce("auth")
	tests := []struct {
		name             string
		client           string
		basicUser, basic string
		post             url.Values
		wantError        string
	}{
		{name: "basic url-encoded (RFC 6749 2.3.1)", client: testClientID, basicUser: testClientID, basic: url.QueryEscape(testSecret)},
		{name: "basic raw secret", client: testClientID, basicUser: testClientID, basic: testSecret},
		{name: "client_secret_post", client: testClientID, post: url.Values{"client_id": {testClientID}, "client_secret": {testSecret}}},
		{name: "post wrong secret", client: testClientID, post: url.Values{"client_id": {testClientID}, "client_secret": {"nope"}}, wantError: "invalid_client"},
		{name: "basic wrong secret", client: testClientID, basicUser: testClientID, basic: "nope", wantError: "invalid_client"},
		{name: "confidential without secret", client: testClientID, post: url.Values{"client_id": {testClientID}}, wantError: "invalid_client"},
		{name: "unknown client", client: testClientID, post: url.Values{"client_id": {"ghost"}}, wantError: "invalid_client"},
		{name: "both methods", client: testClientID, basicUser: testClientID, basic: testSecret, post: url.Values{"client_secret": {testSecret}}, wantError: "invalid_request"},
		{name: "public client id only", client: "spa", post: url.Values{"client_id": {"spa"}}},
		{name: "public client sending a secret", client: "spa", post: url.Values{"client_id": {"spa"}, "client_secret": {"x"}}, wantError: "invalid_client"},
		{name: "code grant disabled", client: "nocode", post: url.Values{"client_id": {"nocode"}, "client_secret": {"x"}}, wantError: "unauthorized_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := e.signIn(t, browser(t), authParams(tt.client, challenge), "grace")
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testCallback}, "code_verifier": {verifier}}
			for k, v := range tt.post {
				form[k] = v
			}
			status, body := e.tokenReq(t, form, tt.basicUser, tt.basic)
			if tt.wantError != "" {
				wantOAuthError(t, status, body, tt.wantError)
				return
			}
			if status != http.StatusOK || body["id_token"] == nil {
				t.Fatalf("got %d %v", status, body)
			}
		})
	}
}

// TestOAuth2LibraryBasicAuth exchanges with golang.org/x/oauth2 in
// AuthStyleInHeader, which URL-escapes the '+' and '/' of the secret.
func TestOAuth2LibraryBasicAuth(t *testing.T) {
	e := newEnv(t, nil)
	conf := &oauth2.Config{
		ClientID: testClientID, ClientSecret: testSecret, RedirectURL: testCallback,
		Endpoint: oauth2.Endpoint{
			AuthURL: e.base + "/oauth2/authorize", TokenURL: e.base + "/oauth2/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		Scopes: []string{"openid", "email", "profile"},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n"))
	c := browser(t)
	resp, page := get(t, c, authURL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authorize %d", resp.StatusCode)
	}
	action, fields := loginForm(t, page, "ada")
	resp, _ = postForm(t, c, action, fields, "", "")
	code := callbackParams(t, resp).Get("code")
	tok, err := conf.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" || tok.Extra("id_token") == nil || tok.Expiry.IsZero() {
		t.Fatalf("token %+v", tok)
	}
}

func TestRefresh(t *testing.T) {
	tests := []struct {
		client, secret string
		rotate         bool
	}{
		{client: testClientID, secret: testSecret},
		{client: "rot", secret: "r", rotate: true},
	}
	for _, tt := range tests {
		t.Run(tt.client, func(t *testing.T) {
			e := newEnv(t, nil)
			verifier, challenge := pkce("r")
			code := e.signIn(t, browser(t), authParams(tt.client, challenge), "ada")
			_, first := e.tokenReq(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {testCallback}, "code_verifier": {verifier}}, tt.client, tt.secret)
			rt := first["refresh_token"].(string)
			e.clock.Advance(30 * time.Minute)

			refresh := func(token string) (int, map[string]any) {
				return e.tokenReq(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token},
					"client_id": {tt.client}, "client_secret": {tt.secret}}, "", "")
			}
			status, body := refresh(rt)
			if status != http.StatusOK || body["access_token"] == first["access_token"] {
				t.Fatalf("refresh %d %v", status, body)
			}
			id, _ := verifyJWT(t, e, body["id_token"].(string))
			oldID, _ := verifyJWT(t, e, first["id_token"].(string))
			if _, ok := id.Get("nonce"); ok {
				t.Error("refreshed ID token carries a nonce")
			}
			if id.Subject() != oldID.Subject() || id.Audience()[0] != tt.client || claim(t, id, "auth_time") != claim(t, oldID, "auth_time") {
				t.Errorf("refreshed ID token sub/aud/auth_time changed")
			}
			newRT, hasRT := body["refresh_token"].(string)
			if hasRT != tt.rotate {
				t.Fatalf("refresh_token returned = %v, want %v", hasRT, tt.rotate)
			}
			if tt.rotate {
				if newRT == rt {
					t.Fatal("rotation returned the same refresh token")
				}
				status, body = refresh(rt)
				wantOAuthError(t, status, body, "invalid_grant")
				rt = newRT
			}
			if status, body = refresh(rt); status != http.StatusOK {
				t.Fatalf("second refresh %d %v", status, body)
			}
			if st := e.idp.Stats(); st.RefreshGrants != 2 {
				t.Errorf("RefreshGrants = %d", st.RefreshGrants)
			}
			// Access tokens expire on the injected clock.
			e.clock.Advance(61 * time.Minute)
			if resp, _ := e.bearerGet(t, "/oauth2/userInfo", body["access_token"].(string)); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("expired access token: userInfo %d", resp.StatusCode)
			}
			// Refresh tokens live 30 days.
			e.clock.Advance(30 * 24 * time.Hour)
			status, body = refresh(rt)
			wantOAuthError(t, status, body, "invalid_grant")
		})
	}

	t.Run("grant type errors", func(t *testing.T) {
		e := newEnv(t, nil)
		status, body := e.tokenReq(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"spa"}}, "", "")
		wantOAuthError(t, status, body, "unsupported_grant_type")
		status, body = e.tokenReq(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"made-up"}, "client_id": {"spa"}}, "", "")
		wantOAuthError(t, status, body, "invalid_grant")
		if st := e.idp.Stats(); st.TokenErrors != 2 {
			t.Errorf("TokenErrors = %d", st.TokenErrors)
		}
	})
}

func TestRevoke(t *testing.T) {
	e := newEnv(t, nil)
	verifier, challenge := pkce("rev")
	code := e.signIn(t, browser(t), authParams(testClientID, challenge), "ada")
	_, tok := e.exchange(t, code, verifier)
	rt, at := tok["refresh_token"].(string), tok["access_token"].(string)
	if resp, _ := e.bearerGet(t, "/oauth2/userInfo", at); resp.StatusCode != http.StatusOK {
		t.Fatalf("userInfo before revoke %d", resp.StatusCode)
	}

	revoke := func(token, user, pass string) int {
		resp, _ := postForm(t, http.DefaultClient, e.base+"/oauth2/revoke", url.Values{"token": {token}}, user, pass)
		return resp.StatusCode
	}
	if got := revoke(rt, testClientID, "wrong"); got != http.StatusBadRequest {
		t.Fatalf("revoke with wrong secret = %d, want 400", got)
	}
	if got := revoke(rt, testClientID, url.QueryEscape(testSecret)); got != http.StatusOK {
		t.Fatalf("revoke = %d", got)
	}
	if got := revoke("never-issued", testClientID, testSecret); got != http.StatusOK {
		t.Fatalf("revoke unknown token = %d, want 200", got)
	}
	if got := e.idp.RevokedRefreshTokens(); !slices.Equal(got, []string{rt, "never-issued"}) {
		t.Errorf("RevokedRefreshTokens = %v", got)
	}
	if st := e.idp.Stats(); st.Revocations != 2 {
		t.Errorf("Revocations = %d", st.Revocations)
	}

	status, body := e.tokenReq(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, testClientID, testSecret)
	wantOAuthError(t, status, body, "invalid_grant")
	for _, path := range []string{"/oauth2/userInfo", "/demo-api/me"} {
		resp, _ := e.bearerGet(t, path, at)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s after revoke: %d %q", path, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	// An ID token is not an access token.
	if resp, _ := e.bearerGet(t, "/oauth2/userInfo", tok["id_token"].(string)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("userInfo accepted an ID token: %d", resp.StatusCode)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	ok := []Client{{ID: "a"}}
	tests := []struct {
		name string
		opts Options
	}{
		{"no base url", Options{Clients: ok}},
		{"relative base url", Options{BaseURL: "/_devidp", Clients: ok}},
		{"no clients", Options{BaseURL: "http://localhost:3000"}},
		{"duplicate clients", Options{BaseURL: "http://localhost:3000", Clients: []Client{{ID: "a"}, {ID: "a"}}}},
		{"empty username", Options{BaseURL: "http://localhost:3000", Clients: ok, Users: []User{{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opts); err == nil {
				t.Fatal("New accepted invalid options")
			}
		})
	}
}
