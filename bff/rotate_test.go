package bff_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/testkit/fakeop"
)

// rotSecret is the n-th test secret (40 bytes).
func rotSecret(n int) string { return fmt.Sprintf("rotation-secret-%02d-rotation-secret-0123", n) }

// rotOptions are Options for the fake Cognito f, with secret, the given
// store and no session cache (a cached session would hide a record that no
// longer opens).
func rotOptions(f *fakeop.OP, st bff.Store, secret string) bff.Options {
	return bff.Options{
		URL: "auto", Secrets: []string{secret}, Store: st, SessionCacheTTL: -1, FederatedSignout: new(bool),
		Providers: []bff.Provider{{Cognito: true, Issuer: f.Issuer(), ClientID: f.ClientID, ClientSecret: f.Secret}},
	}
}

// sessionName reads base's session with only the session cookie value
// (never through a jar: a server that cannot open it clears it) and
// returns the user's name, "" for no session.
func sessionName(t *testing.T, base, cookie string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/auth/session", nil)
	req.AddCookie(&http.Cookie{Name: "next-auth.session-token", Value: cookie})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct{ User struct{ Name string } }
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("session at %s: %d %v", base, resp.StatusCode, err)
	}
	return s.User.Name
}

// rotSignIn signs a new browser in at app and returns its session cookie.
func rotSignIn(t *testing.T, app *testServer) string {
	t.Helper()
	b := newBrowser(t)
	if loc := location(t, b.SignIn(app.URL, "cognito", app.URL+"/done", "")); loc != app.URL+"/done" {
		t.Fatalf("sign-in ended at %s", loc)
	}
	c := b.SessionCookie(app.URL)
	if c == "" {
		t.Fatal("no session cookie after the sign-in")
	}
	return c
}

// TestRotateSecrets: a rotated session secret seals every new session
// while the old one (now previous) still opens the existing sessions and
// the flow cookies of sign-ins under way; at most MaxPreviousSecrets old
// secrets are carried; a rotation that fails validation changes nothing.
func TestRotateSecrets(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	st, err := bff.OpenStore("memory")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	app := newTestServer(t, rotOptions(f, st, rotSecret(0)))
	// Servers on the same store knowing one secret each.
	only := func(n int) *testServer { return newTestServer(t, rotOptions(f, st, rotSecret(n))) }
	old, next := only(0), only(1)

	first := rotSignIn(t, app)
	pending := newBrowser(t)
	authorize := pending.StartSignIn(app.URL, "cognito", app.URL+"/pending") // flow cookie sealed with secret 0
	if err := app.BFF.RotateSecrets(bff.Secrets{Secrets: []string{rotSecret(1)}}); err != nil {
		t.Fatalf("RotateSecrets: %v", err)
	}
	if got := sessionName(t, app.URL, first); got != "Ada Lovelace" {
		t.Fatalf("the session sealed before the rotation reads %q after it (the old secret must stay as a previous one)", got)
	}
	if loc := location(t, pending.Get(location(t, pending.Get(authorize)))); loc != app.URL+"/pending" {
		t.Fatalf("a sign-in begun before the rotation ended at %s", loc)
	}
	second := rotSignIn(t, app)
	if got := sessionName(t, next.URL, second); got != "Ada Lovelace" {
		t.Fatalf("a server with only the new secret reads the new session as %q: it is not sealed with the new secret", got)
	}
	if got := sessionName(t, old.URL, second); got != "" {
		t.Fatalf("a server with only the old secret reads the new session as %q: it is still sealed with the old secret", got)
	}
	// The admin credential of the new secret is accepted.
	cred, _ := bff.Options{Secrets: []string{rotSecret(1)}}.AdminCredential()
	req, _ := http.NewRequest(http.MethodPost, app.AdminURL+bff.AdminRevokePath, strings.NewReader(`{"provider":"cognito","sub":"nobody"}`))
	req.Header.Set("Authorization", "Bearer "+cred)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("admin revoke with the new secret's credential: %v %v", resp.StatusCode, err)
	}

	// Invalid: a short secret, an unknown provider. Nothing changes.
	err = app.BFF.RotateSecrets(bff.Secrets{Secrets: []string{"too-short"},
		Providers: map[string]bff.ProviderSecrets{"cognito": {ClientSecret: "other"}}})
	if err == nil || !strings.Contains(err.Error(), "Secrets[0]") {
		t.Fatalf("a too-short secret: %v (want an error naming Secrets[0])", err)
	}
	err = app.BFF.RotateSecrets(bff.Secrets{Secrets: []string{rotSecret(9)},
		Providers: map[string]bff.ProviderSecrets{"nope": {ClientSecret: "x"}, "cognito": {ClientSecret: "other"}}})
	if err == nil || !strings.Contains(err.Error(), `Providers["nope"]`) {
		t.Fatalf("an unknown provider: %v", err)
	}
	third := rotSignIn(t, app) // the client secret is still the fake OP's
	if got := sessionName(t, next.URL, third); got != "Ada Lovelace" {
		t.Fatalf("after refused rotations, a new session is not sealed with the current secret (%q)", got)
	}

	// Rotations 2 and 3: secret 0 is the third previous one, still kept.
	for n := 2; n <= 3; n++ {
		if err := app.BFF.RotateSecrets(bff.Secrets{Secrets: []string{rotSecret(n)}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := sessionName(t, app.URL, first); got != "Ada Lovelace" {
		t.Fatalf("with %d rotations the first session reads %q", bff.MaxPreviousSecrets, got)
	}
	// Rotation 4 drops secret 0 (beyond MaxPreviousSecrets), keeps 1.
	if err := app.BFF.RotateSecrets(bff.Secrets{Secrets: []string{rotSecret(4)}}); err != nil {
		t.Fatal(err)
	}
	if got := sessionName(t, app.URL, first); got != "" {
		t.Fatalf("secret 0 is %d rotations old, yet its session reads %q: the previous secrets are not bounded", bff.MaxPreviousSecrets+1, got)
	}
	if got := sessionName(t, app.URL, second); got != "Ada Lovelace" {
		t.Fatalf("the session of secret 1 reads %q after rotation 4", got)
	}
	// A previous secret listed explicitly is never dropped.
	if err := app.BFF.RotateSecrets(bff.Secrets{Secrets: []string{rotSecret(5), rotSecret(0)}}); err != nil {
		t.Fatal(err)
	}
	if got := sessionName(t, app.URL, first); got != "Ada Lovelace" {
		t.Fatalf("secret 0 listed as previous again: its session reads %q", got)
	}
}

// TestRotateClientSecret: once the provider rotates the client's secret,
// sign-ins fail until RotateSecrets gives the BFF the new one, which the
// very next token call sends; credentials that do not suit the provider's
// authentication are refused.
func TestRotateClientSecret(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	st, _ := bff.OpenStore("memory")
	t.Cleanup(func() { st.Close() })
	app := newTestServer(t, rotOptions(f, st, rotSecret(0)))
	f.SetSecret("rotated-client-secret")
	b := newBrowser(t)
	if loc := location(t, b.SignIn(app.URL, "cognito", app.URL+"/done", "")); !strings.Contains(loc, "error=") {
		t.Fatalf("the provider refuses the old client secret, yet the sign-in ended at %s", loc)
	}
	err := app.BFF.RotateSecrets(bff.Secrets{Providers: map[string]bff.ProviderSecrets{"cognito": {}}})
	if err == nil || !strings.Contains(err.Error(), "Providers[0]") {
		t.Fatalf("an empty client secret for a confidential client: %v", err)
	}
	if err := app.BFF.RotateSecrets(bff.Secrets{Providers: map[string]bff.ProviderSecrets{"cognito": {ClientSecret: "rotated-client-secret"}}}); err != nil {
		t.Fatalf("RotateSecrets: %v", err)
	}
	rotSignIn(t, app)
}

// TestRotateClientKey: a rotated private_key_jwt key is published at
// <base>/jwks with the one it replaces, until the next rotation.
func TestRotateClientKey(t *testing.T) {
	st, _ := bff.OpenStore("memory")
	t.Cleanup(func() { st.Close() })
	app := newTestServer(t, bff.Options{URL: "auto", Secrets: []string{rotSecret(0)}, Store: st, Providers: []bff.Provider{{
		ID: "bank", Issuer: "https://bank.example", ClientID: "x", AuthStyle: bff.AuthStylePrivateKeyJWT,
		ClientKey: secKeyPEM(t, false), ClientKeyID: "k1",
	}}})
	kids := func() []string {
		t.Helper()
		resp, err := http.Get(app.URL + "/api/auth/jwks")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var set struct{ Keys []struct{ Kid string } }
		_ = json.NewDecoder(resp.Body).Decode(&set)
		var out []string
		for _, k := range set.Keys {
			out = append(out, k.Kid)
		}
		return out
	}
	rotate := func(kid string) error {
		return app.BFF.RotateSecrets(bff.Secrets{Providers: map[string]bff.ProviderSecrets{"bank": {ClientKey: secKeyPEM(t, false), ClientKeyID: kid}}})
	}
	if err := rotate("k2"); err != nil {
		t.Fatal(err)
	}
	if got := kids(); !slices.Equal(got, []string{"k2", "k1"}) {
		t.Fatalf("jwks after one rotation: %v, want [k2 k1]", got)
	}
	if err := rotate("k3"); err != nil {
		t.Fatal(err)
	}
	if got := kids(); !slices.Equal(got, []string{"k3", "k2"}) {
		t.Fatalf("jwks after two rotations: %v, want [k3 k2]", got)
	}
	err := app.BFF.RotateSecrets(bff.Secrets{Providers: map[string]bff.ProviderSecrets{"bank": {ClientSecret: "s", ClientKey: "not pem"}}})
	if err == nil || !strings.Contains(err.Error(), "Providers[0].ClientKey") || !strings.Contains(err.Error(), "Providers[0].ClientSecret") {
		t.Fatalf("a bad key and a secret for private_key_jwt: %v", err)
	}
	if got := kids(); !slices.Equal(got, []string{"k3", "k2"}) {
		t.Fatalf("jwks after a refused rotation: %v", got)
	}
}

// TestRotateSecretsConcurrentReads: rotations while sessions are read and
// CSRF tokens minted never lose a session (run with -race).
func TestRotateSecretsConcurrentReads(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	st, _ := bff.OpenStore("memory")
	t.Cleanup(func() { st.Close() })
	o := rotOptions(f, st, rotSecret(0))
	o.SessionCacheTTL = -1 // every read opens the record with the keys of the moment
	app := newTestServer(t, o)
	cookie := rotSignIn(t, app)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var lost, reads atomic.Int32
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/auth/session", nil)
				req.AddCookie(&http.Cookie{Name: "next-auth.session-token", Value: cookie})
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					lost.Add(1)
					return
				}
				var s struct{ User struct{ Name string } }
				_ = json.NewDecoder(resp.Body).Decode(&s)
				resp.Body.Close()
				if s.User.Name != "Ada Lovelace" {
					lost.Add(1)
				}
				reads.Add(1)
				if resp, err := http.Get(app.URL + "/api/auth/csrf"); err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	// Alternating secrets 0 and 1 (both always current or previous),
	// until the readers have read 200 times.
	for i := 0; reads.Load() < 200 || i < 20; i++ {
		if err := app.BFF.RotateSecrets(bff.Secrets{Secrets: []string{rotSecret(i % 2)}}); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if n := lost.Load(); n > 0 {
		t.Fatalf("%d session reads lost the session during rotations", n)
	}
	if got := sessionName(t, app.URL, cookie); got != "Ada Lovelace" {
		t.Fatalf("after the rotations the session reads %q", got)
	}
}
