package bff_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/authbff/authbff/internal/oidc"
)

// TestSecPARPrivateKeyJWTPanva (issue 24): against panva's oidc-provider
// that REQUIRES pushed authorization requests and knows the client only by
// its private_key_jwt keys (read from authbff's <base>/jwks), a person signs
// in, refreshes and signs out (the refresh token revoked); the browser's
// navigation to the provider carries only client_id and request_uri; no
// request carries a client secret; every token, PAR and revocation call
// carries a fresh client assertion signed by the current key.
func TestSecPARPrivateKeyJWTPanva(t *testing.T) {
	ln, appURL := secListen(t)
	const clientID = "authbff-fapi"
	iss := secStartPanva(t, "CLIENT_ID="+clientID, "REDIRECT_URI="+appURL+"/api/auth/callback/fapi",
		"JWKS_URI="+appURL+"/api/auth/jwks", "ACCESS_TTL=30")
	current, previous := secKeyPEM(t, false), secKeyPEM(t, true)
	keyFile := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(keyFile, []byte(current+previous), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &secRecorder{}
	app := secServe(t, ln, map[string]string{
		"AUTH_FAPI_ISSUER": iss, "AUTH_FAPI_ID": clientID, "AUTH_FAPI_AUTH_STYLE": "private_key_jwt",
		"AUTH_FAPI_CLIENT_KEY_FILE": keyFile, "AUTH_FAPI_CLIENT_KEY_ID": "current",
		"SESSION_STORE": "memory", "AUTH_FEDERATED_SIGNOUT": "0",
	}, rec.client())

	// <base>/jwks publishes both keys' public halves, private parts never.
	b := newProvBrowser(t)
	resp, body := b.get(app.URL + "/api/auth/jwks")
	set, err := jwk.Parse(body)
	if resp.StatusCode != http.StatusOK || err != nil || set.Len() != 2 {
		t.Fatalf("jwks: %d %v %s", resp.StatusCode, err, body)
	}
	if strings.Contains(string(body), `"d"`) {
		t.Fatalf("jwks publishes a private key: %s", body)
	}
	curKey, ok := set.LookupKeyID("current")
	if !ok {
		t.Fatalf("jwks has no key current: %s", body)
	}

	authURL := b.startSignIn(app, "fapi", url.Values{"login_hint": {"alice"}})
	u, err := url.Parse(authURL)
	if err != nil || !strings.HasPrefix(authURL, iss+"/auth?") {
		t.Fatalf("authorize URL %s is not oidc-provider's", authURL)
	}
	var keys []string
	for k := range u.Query() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"client_id", "request_uri"}) || u.Query().Get("client_id") != clientID {
		t.Fatalf("the navigation to the provider carries %v, want only client_id and request_uri: %s", keys, authURL)
	}
	par := rec.waitCall(t, "PAR", func(c secCall) bool { return strings.HasSuffix(c.Path, "/request") && c.Method == http.MethodPost })
	if par.Status != http.StatusCreated || par.Form.Get("login_hint") != "alice" || par.Form.Get("code_challenge_method") != "S256" {
		t.Fatalf("PAR: %d %v %s", par.Status, par.Form, par.Body)
	}

	cb := secInteract(b, app, authURL, "alice")
	resp, _ = b.get(cb)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != app.URL+"/account" {
		t.Fatalf("callback: %d to %q\n%s", resp.StatusCode, loc, app.Logs)
	}
	if user := b.sessionUser(app); user == nil || user["name"] != "Fapi alice" {
		t.Fatalf("session.user = %v", user)
	}

	// 30 s access tokens are within the refresh margin: update() refreshes.
	if resp, body := secPost(b, app, "/api/auth/session", url.Values{}); resp.StatusCode != http.StatusOK {
		t.Fatalf("session update: %d %s", resp.StatusCode, body)
	}
	refresh := rec.waitCall(t, "refresh", func(c secCall) bool { return c.Form.Get("grant_type") == "refresh_token" })
	if refresh.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", refresh.Status, refresh.Body)
	}

	if resp, body := secPost(b, app, "/api/auth/signout", url.Values{"json": {"true"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("signout: %d %s", resp.StatusCode, body)
	}
	revoke := rec.waitCall(t, "revocation", func(c secCall) bool { return strings.HasSuffix(c.Path, "/token/revocation") })
	if revoke.Status != http.StatusOK || revoke.Form.Get("token") == "" || revoke.Form.Get("token_type_hint") != "refresh_token" {
		t.Fatalf("revocation: %d %s", revoke.Status, revoke.Body)
	}
	if user := b.sessionUser(app); user != nil {
		t.Fatalf("still signed in: %v", user)
	}

	// No request carries a secret; every client-authenticated call carries
	// a fresh assertion of the current key, aud the issuer.
	jtis := map[string]bool{}
	authenticated := 0
	for _, c := range rec.Calls() {
		if c.Form.Has("client_secret") || strings.HasPrefix(c.Header.Get("Authorization"), "Basic ") {
			t.Errorf("%s %s carries a client secret", c.Method, c.Path)
		}
		a := c.Form.Get("client_assertion")
		if c.Method != http.MethodPost || (a == "" && c.Form.Get("token") == "" && c.Form.Get("grant_type") == "" && c.Form.Get("code_challenge") == "") {
			continue
		}
		authenticated++
		if c.Form.Get("client_assertion_type") != oidc.ClientAssertionType {
			t.Errorf("%s %s: no client assertion: %v", c.Method, c.Path, c.Form)
			continue
		}
		if _, err := jws.Verify([]byte(a), jws.WithKeySet(secPublicSet(t, curKey), jws.WithRequireKid(false))); err != nil {
			t.Errorf("%s %s: the assertion is not signed by the current key: %v", c.Method, c.Path, err)
		}
		tok, err := jwt.Parse([]byte(a), jwt.WithVerify(false))
		if err != nil {
			t.Fatal(err)
		}
		if tok.Issuer() != clientID || tok.Subject() != clientID || !slices.Equal(tok.Audience(), []string{iss}) ||
			tok.Expiration().Sub(tok.IssuedAt()) > oidc.AssertionLifetime || jtis[tok.JwtID()] || tok.JwtID() == "" {
			claims, _ := json.Marshal(tok)
			t.Errorf("%s %s: assertion claims %s", c.Method, c.Path, claims)
		}
		jtis[tok.JwtID()] = true
	}
	if authenticated < 4 { // PAR, code, refresh, revocation
		t.Fatalf("only %d client-authenticated calls: %v", authenticated, secPaths(rec.Calls()))
	}
}

func secPublicSet(t *testing.T, k jwk.Key) jwk.Set {
	t.Helper()
	set := jwk.NewSet()
	_ = set.AddKey(k)
	return set
}
