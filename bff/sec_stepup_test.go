package bff_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// secProxyGet calls the proxy as the SPA does (X-CSRF: 1, same origin).
func secProxyGet(b *provBrowser, app *provApp, path string) (*http.Response, []byte) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/proxy/"+path, nil)
	req.Header.Set("X-CSRF", "1")
	req.Header.Set("Origin", app.URL)
	return b.do(req)
}

// TestSecStepUpPanva (issue 24): UPSTREAM_SECURE_ACR=urn:mfa. A session
// signed in with acr urn:basic gets 401 insufficient_user_authentication
// naming urn:mfa (body and RFC 9470 challenge) and the upstream is not
// called; after signIn(id, {}, {acr_values: "urn:mfa"}) the call reaches
// it.
func TestSecStepUpPanva(t *testing.T) {
	ln, appURL := secListen(t)
	const clientID = "authbff-stepup"
	iss := secStartPanva(t, "CLIENT_ID="+clientID, "REDIRECT_URI="+appURL+"/api/auth/callback/fapi",
		"JWKS_URI="+appURL+"/api/auth/jwks")
	keyFile := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(keyFile, []byte(secKeyPEM(t, false)), 0o600); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(echo.Close)
	rec := &secRecorder{}
	app := secServe(t, ln, map[string]string{
		"AUTH_FAPI_ISSUER": iss, "AUTH_FAPI_ID": clientID, "AUTH_FAPI_AUTH_STYLE": "private_key_jwt",
		"AUTH_FAPI_CLIENT_KEY_FILE": keyFile, "SESSION_STORE": "memory", "AUTH_FEDERATED_SIGNOUT": "0",
		"UPSTREAM_SECURE": echo.URL, "UPSTREAM_SECURE_ACR": "urn:mfa", "UPSTREAM_OPEN": echo.URL,
	}, rec.client())

	b := newProvBrowser(t)
	cb := secInteract(b, app, b.startSignIn(app, "fapi", nil), "alice")
	if resp, _ := b.get(cb); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != app.URL+"/account" {
		t.Fatalf("first sign-in: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), app.Logs)
	}
	if resp, body := secProxyGet(b, app, "open/x"); resp.StatusCode != http.StatusOK || calls.Load() != 1 {
		t.Fatalf("an upstream without a requirement: %d %s", resp.StatusCode, body)
	}
	resp, body := secProxyGet(b, app, "secure/x")
	var got struct {
		Error, Message string
		ACRValues      string `json:"acr_values"`
	}
	_ = json.Unmarshal(body, &got)
	if resp.StatusCode != http.StatusUnauthorized || got.Error != "insufficient_user_authentication" || got.ACRValues != "urn:mfa" || got.Message == "" {
		t.Fatalf("a urn:basic session at the secure upstream: %d %s", resp.StatusCode, body)
	}
	if h := resp.Header.Get("WWW-Authenticate"); h != `Bearer error="insufficient_user_authentication", acr_values="urn:mfa"` {
		t.Fatalf("WWW-Authenticate = %q", h)
	}
	if calls.Load() != 1 {
		t.Fatal("the secure upstream was called")
	}

	authURL := b.startSignIn(app, "fapi", url.Values{"acr_values": {"urn:mfa"}})
	cb = secInteract(b, app, authURL, "alice")
	if resp, _ := b.get(cb); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != app.URL+"/account" {
		t.Fatalf("step-up sign-in: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), app.Logs)
	}
	if resp, body := secProxyGet(b, app, "secure/x"); resp.StatusCode != http.StatusOK || calls.Load() != 2 {
		t.Fatalf("after the step-up: %d %s", resp.StatusCode, body)
	}
}

// TestSecStepUpRefusals: an ID token whose acr was not asked for, or
// without auth_time when max_age was asked, ends on the error page with no
// session.
func TestSecStepUpRefusals(t *testing.T) {
	for _, tt := range []struct {
		name   string
		params url.Values
		claims map[string]any
	}{
		{"acr not asked for", url.Values{"acr_values": {"urn:mfa"}}, map[string]any{"acr": "urn:basic"}},
		{"no acr", url.Values{"acr_values": {"urn:mfa urn:hwk"}}, map[string]any{}},
		{"no auth_time with max_age", url.Values{"max_age": {"300"}}, map[string]any{"acr": "urn:mfa"}},
		{"auth_time too old", url.Values{"max_age": {"60"}}, map[string]any{"auth_time": time.Now().Add(-time.Hour).Unix()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			op := newProvOP(t, nil)
			app := startProv(t, map[string]string{"AUTH_ACME_ISSUER": op.Issuer(), "AUTH_ACME_ID": "c", "AUTH_ACME_SECRET": "s"})
			op.Claims = func(nonce string) map[string]any { return idClaims(op.Issuer(), "u1", "c", nonce, tt.claims) }
			b := newProvBrowser(t)
			wantError(t, b, app, b.signIn(app, "acme", tt.params), "OAuthCallback")
		})
	}
	// The same answers, asked for, are accepted.
	op := newProvOP(t, nil)
	app := startProv(t, map[string]string{"AUTH_ACME_ISSUER": op.Issuer(), "AUTH_ACME_ID": "c", "AUTH_ACME_SECRET": "s"})
	op.Claims = func(nonce string) map[string]any {
		return idClaims(op.Issuer(), "u1", "c", nonce, map[string]any{"acr": "urn:mfa", "auth_time": time.Now().Unix()})
	}
	b := newProvBrowser(t)
	if loc := b.signIn(app, "acme", url.Values{"acr_values": {"urn:hwk urn:mfa"}, "max_age": {"60"}}); !strings.HasSuffix(loc, "/account") {
		t.Fatalf("a good step-up answer ended at %s", loc)
	}
}
