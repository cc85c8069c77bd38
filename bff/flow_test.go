package bff_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/testkit"
)

// TestDevIdPSignInSurvivesRestart is the zero-config journey: no provider
// configured -> the embedded dev IdP; sign in with a plain HTTP client the
// way next-auth/react does; the session is in the embedded store and is
// still there after a restart.
func TestDevIdPSignInSurvivesRestart(t *testing.T) {
	dataDir := t.TempDir()
	env := map[string]string{"AUTHBFF_DATA_DIR": dataDir}
	app := startApp(t, env)
	if devIdP(app.BFF) == nil {
		t.Fatal("no provider configured, but the dev IdP is not in use")
	}
	if _, err := os.Stat(filepath.Join(dataDir, "sessions.db")); err != nil {
		t.Fatalf("default store: %v, want the embedded bolt store in the data directory", err)
	}
	b := newBrowser(t)
	if s := b.Session(app.URL); s != nil {
		t.Fatalf("signed out session = %v, want {}", s)
	}
	authURL := b.StartSignIn(app.URL, "cognito", app.URL+"/protected")
	if !strings.HasPrefix(authURL, app.URL+devIdPPath+"/oauth2/authorize?") {
		t.Fatalf("authorize URL %q is not the dev IdP's", authURL)
	}
	q := testkit.MustQuery(t, authURL)
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if q.Get(k) == "" {
			t.Fatalf("authorize URL lacks %s: %s", k, authURL)
		}
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("redirect_uri") != app.URL+"/api/auth/callback/cognito" {
		t.Fatalf("authorize URL: %s", authURL)
	}
	cb := b.DevLogin(b.Get(authURL), "ada")
	final := b.Get(location(t, cb))
	if got := location(t, final); got != app.URL+"/protected" {
		t.Fatalf("after callback: redirected to %q, want %q", got, app.URL+"/protected")
	}
	sc := cookieNamed(final.Cookies(), "next-auth.session-token")
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Expires.Before(time.Now().Add(29*24*time.Hour)) {
		t.Fatalf("session cookie: %+v", sc)
	}
	s := b.Session(app.URL)
	user, _ := s["user"].(map[string]any)
	if user["name"] != "Ada Lovelace" || user["email"] != "ada@example.com" {
		t.Fatalf("session = %v", s)
	}
	exp, err := time.Parse("2006-01-02T15:04:05.000Z", s["expires"].(string))
	if err != nil || time.Until(exp) < 29*24*time.Hour {
		t.Fatalf("expires %v (%v)", s["expires"], err)
	}

	// Restart on the same port: same data dir, same (generated) secret, same
	// cookie, and the dev IdP's keys and refresh tokens are kept too.
	addr := strings.TrimPrefix(app.URL, "http://")
	app.Close()
	app2 := startAppOn(t, env, strings.Replace(addr, "localhost", "127.0.0.1", 1))
	s2 := b.Session(app2.URL)
	if u2, _ := s2["user"].(map[string]any); u2["name"] != "Ada Lovelace" {
		t.Fatalf("after restart session = %v", s2)
	}
	// The access token minted before the restart still works upstream, and
	// a forced refresh (what an upstream 401 causes) still succeeds.
	tok := b.sessionToken(app2)
	s3, err := core(app2.BFF).Sessions().Load(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if r := b.ProxyGet(app2.URL + "/api/proxy/demo/me"); r.StatusCode != 200 || !strings.Contains(r.Body, "ada") {
		t.Fatalf("demo API after restart: %d %s", r.StatusCode, r.Body)
	}
	s4, err := core(app2.BFF).ForceRefresh(context.Background(), tok, s3)
	if err != nil || s4 == nil || s4.Data.Tokens.AccessToken == s3.Data.Tokens.AccessToken {
		t.Fatalf("refresh after restart: %v (session kept: %v)", err, s4 != nil)
	}
}

// sessionToken is the browser's session cookie value for app.
func (b *browser) sessionToken(app *testApp) string {
	b.T.Helper()
	u, _ := url.Parse(app.URL)
	if c := cookieNamed(b.Client.Jar.Cookies(u), "next-auth.session-token"); c != nil {
		return c.Value
	}
	b.T.Fatal("no session cookie")
	return ""
}
