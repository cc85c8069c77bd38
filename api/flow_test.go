package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestDevIdPSignInSurvivesRestart is the zero-config journey: no provider
// configured -> the embedded dev IdP; sign in with a plain HTTP client the
// way next-auth/react does; the session is in the embedded store and is
// still there after a restart.
func TestDevIdPSignInSurvivesRestart(t *testing.T) {
	dataDir := t.TempDir()
	env := map[string]string{"AUTHBFF_DATA_DIR": dataDir}
	app := startApp(t, env)
	if app.Main.DevIdP == nil {
		t.Fatal("no provider configured, but the dev IdP is not in use")
	}
	if !strings.HasPrefix(app.Main.Config.SessionStore, "bolt:") {
		t.Fatalf("default store = %q, want the embedded bolt store", app.Main.Config.SessionStore)
	}
	b := newBrowser(t)
	if s := b.session(app.URL); s != nil {
		t.Fatalf("signed out session = %v, want {}", s)
	}
	authURL := b.startSignIn(app.URL, "cognito", app.URL+"/protected")
	if !strings.HasPrefix(authURL, app.URL+DevIdPPath+"/oauth2/authorize?") {
		t.Fatalf("authorize URL %q is not the dev IdP's", authURL)
	}
	q := mustQuery(t, authURL)
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if q.Get(k) == "" {
			t.Fatalf("authorize URL lacks %s: %s", k, authURL)
		}
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("redirect_uri") != app.URL+"/api/auth/callback/cognito" {
		t.Fatalf("authorize URL: %s", authURL)
	}
	cb := b.devLogin(b.get(authURL), "ada")
	final := b.get(location(t, cb))
	if got := location(t, final); got != app.URL+"/protected" {
		t.Fatalf("after callback: redirected to %q, want %q", got, app.URL+"/protected")
	}
	sc := cookieNamed(final.Cookies(), "next-auth.session-token")
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Expires.Before(time.Now().Add(29*24*time.Hour)) {
		t.Fatalf("session cookie: %+v", sc)
	}
	s := b.session(app.URL)
	user, _ := s["user"].(map[string]any)
	if user["name"] != "Ada Lovelace" || user["email"] != "ada@example.com" {
		t.Fatalf("session = %v", s)
	}
	exp, err := time.Parse("2006-01-02T15:04:05.000Z", s["expires"].(string))
	if err != nil || time.Until(exp) < 29*24*time.Hour {
		t.Fatalf("expires %v (%v)", s["expires"], err)
	}

	// Restart: same data dir, same (generated) secret, same cookie.
	app.Close()
	app2 := startApp(t, env)
	s2 := b.sessionAt(app2.URL, app.URL)
	if u2, _ := s2["user"].(map[string]any); u2["name"] != "Ada Lovelace" {
		t.Fatalf("after restart session = %v", s2)
	}
}

// sessionAt reads the session from base with the cookies the jar holds for
// cookieBase (the restarted app listens on another port).
func (b *browser) sessionAt(base, cookieBase string) map[string]any {
	b.t.Helper()
	u, _ := url.Parse(cookieBase)
	req, _ := http.NewRequest(http.MethodGet, base+"/api/auth/session", nil)
	for _, c := range b.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	r := b.do(req)
	var v map[string]any
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		b.t.Fatalf("session %d %q", r.StatusCode, r.Body)
	}
	return v
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
