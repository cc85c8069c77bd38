package bff_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/testkit/fakeop"
)

// logoutClaims are valid back-channel logout token claims from f for sub.
func logoutClaims(f *fakeop.OP, sub string) map[string]any {
	return map[string]any{
		"iss": f.Issuer(), "aud": f.ClientID, "iat": time.Now().Unix(), "jti": fakeop.RandHex(8), "sub": sub,
		"events": map[string]any{oidc.BackchannelLogoutEvent: map[string]any{}},
	}
}

// postLogout delivers a logout token the way an IdP does: server to
// server, no cookie, no CSRF token.
func postLogout(t *testing.T, app *testApp, token string) (int, string) {
	t.Helper()
	resp, err := http.PostForm(app.URL+"/api/auth/backchannel-logout/cognito", url.Values{"logout_token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Error string }
	_ = json.NewDecoder(resp.Body).Decode(&v)
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("back-channel logout answered Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	return resp.StatusCode, v.Error
}

func TestBackchannelLogout(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	app := startApp(t, cognitoEnv(f))
	signIn := func(sub, sid string) *browser {
		t.Helper()
		f.Mutate = func(c map[string]any) string {
			c["sub"] = sub
			if sid != "" {
				c["sid"] = sid
			}
			return ""
		}
		defer func() { f.Mutate = nil }()
		b := newBrowser(t)
		b.signInAt(app, "/")
		if b.Session(app.URL) == nil {
			t.Fatalf("sign-in of %s failed", sub)
		}
		return b
	}
	signedIn := func(bs ...*browser) []bool {
		out := make([]bool, len(bs))
		for i, b := range bs {
			out[i] = b.Session(app.URL) != nil
		}
		return out
	}
	ada1, ada2, bob := signIn("ada", ""), signIn("ada", ""), signIn("bob", "")

	bad := map[string]string{
		"rogue key":   f.Sign(logoutClaims(f, "ada"), f.Rogue),
		"flipped sig": fakeop.FlipSig(f.Sign(logoutClaims(f, "ada"), f.Key)),
		"alg none":    fakeop.Unsigned(logoutClaims(f, "ada")),
		"with nonce": f.Sign(func() map[string]any {
			c := logoutClaims(f, "ada")
			c["nonce"] = "n"
			return c
		}(), f.Key),
		"wrong aud": f.Sign(func() map[string]any {
			c := logoutClaims(f, "ada")
			c["aud"] = "someone-else"
			return c
		}(), f.Key),
		"empty": "",
	}
	for name, tok := range bad {
		if code, e := postLogout(t, app, tok); code != 400 || e != "invalid_request" {
			t.Errorf("%s: %d %q, want 400 invalid_request", name, code, e)
		}
	}
	if got := signedIn(ada1, ada2, bob); got[0] != true || got[1] != true || got[2] != true {
		t.Fatalf("bad logout tokens ended sessions: %v", got)
	}

	good := f.Sign(logoutClaims(f, "ada"), f.Key)
	if code, e := postLogout(t, app, good); code != 200 {
		t.Fatalf("valid logout token: %d %q", code, e)
	}
	if got := signedIn(ada1, ada2, bob); got[0] || got[1] || !got[2] {
		t.Fatalf("after logout of ada, signed in = %v, want [false false true]", got)
	}

	// Replayed: refused, and ada's new session survives.
	ada3 := signIn("ada", "")
	if code, e := postLogout(t, app, good); code != 400 || e != "invalid_request" {
		t.Fatalf("replayed logout token: %d %q", code, e)
	}
	if ada3.Session(app.URL) == nil {
		t.Fatal("a replayed logout token ended a new session")
	}

	// sub + sid ends only that IdP session.
	s1, s2 := signIn("grace", "sid-1"), signIn("grace", "sid-2")
	c := logoutClaims(f, "grace")
	c["sid"] = "sid-1"
	if code, e := postLogout(t, app, f.Sign(c, f.Key)); code != 200 {
		t.Fatalf("sub+sid logout: %d %q", code, e)
	}
	if got := signedIn(s1, s2, ada3); got[0] || !got[1] || !got[2] {
		t.Fatalf("after sid-1 logout, signed in = %v, want [false true true]", got)
	}

	// sid only (Ory Hydra's form: the spec allows sub OR sid) ends exactly
	// the sessions of that IdP session, whoever they belong to.
	h1, h2, h3 := signIn("hopper", "sid-h"), signIn("hopper", "sid-h"), signIn("hopper", "sid-other")
	sidOnly := logoutClaims(f, "hopper")
	delete(sidOnly, "sub")
	sidOnly["sid"] = "sid-h"
	if code, e := postLogout(t, app, f.Sign(sidOnly, f.Key)); code != 200 {
		t.Fatalf("sid-only logout: %d %q", code, e)
	}
	if got := signedIn(h1, h2, h3, s2, ada3); got[0] || got[1] || !got[2] || !got[3] || !got[4] {
		t.Fatalf("after the sid-only logout of sid-h, signed in = %v, want [false false true true true]", got)
	}
}

func TestBackchannelLogoutUnknownProvider(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	app := startApp(t, cognitoEnv(f))
	resp, err := http.PostForm(app.URL+"/api/auth/backchannel-logout/nope", url.Values{"logout_token": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("unknown provider: %d", resp.StatusCode)
	}
}
