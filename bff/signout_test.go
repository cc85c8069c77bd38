package bff_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/testkit"
	"github.com/authbff/authbff/internal/testkit/fakeop"
)

// bffSignOut POSTs /signout as signOut({callbackUrl}) does (JSON mode) and
// returns {url}.
func (b *browser) bffSignOut(app *testApp, callbackURL string) string {
	b.T.Helper()
	tok := b.CSRF(app.URL)
	r := b.PostForm(app.URL+"/api/auth/signout", url.Values{"csrfToken": {tok}, "callbackUrl": {callbackURL}, "json": {"true"}})
	var v struct{ URL string }
	if r.StatusCode != 200 || json.Unmarshal([]byte(r.Body), &v) != nil || v.URL == "" {
		b.T.Fatalf("signout: %d %s", r.StatusCode, r.Body)
	}
	return v.URL
}

func TestSignoutFederatedThroughDevIdP(t *testing.T) {
	app := startApp(t, bffEnv(t))
	idp := devIdP(app.BFF)
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	s, err := core(app.BFF).Sessions().Load(context.Background(), b.SessionCookie(app.URL))
	if err != nil || s.Data.Tokens.RefreshToken == "" {
		t.Fatalf("session: %v", err)
	}
	rt, at := s.Data.Tokens.RefreshToken, s.Data.Tokens.AccessToken

	to := b.bffSignOut(app, app.URL+"/bye")
	want := app.URL + devIdPPath + "/logout?"
	q := testkit.MustQuery(t, to)
	if !strings.HasPrefix(to, want) || q.Get("client_id") != "authbff-dev" || q.Get("logout_uri") != app.URL {
		t.Fatalf("sign-out url = %q, want the dev IdP's /logout back to the origin", to)
	}
	waitRevocations(idp, 1)
	if got := idp.RevokedRefreshTokens(); idp.Stats().Revocations != 1 || !slices.Equal(got, []string{rt}) {
		t.Fatalf("revoked %d token(s); the session's refresh token revoked: %v", idp.Stats().Revocations, slices.Contains(got, rt))
	}
	u, _ := url.Parse(app.URL)
	if c := cookieNamed(b.Client.Jar.Cookies(u), "next-auth.callback-url"); c == nil || c.Value != url.QueryEscape(app.URL+"/bye") {
		t.Fatalf("callback-url cookie = %v", c)
	}
	if b.Session(app.URL) != nil {
		t.Fatal("still signed in after sign-out")
	}
	req, _ := http.NewRequest("GET", app.URL+devIdPPath+"/demo-api/me", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	if r := newBrowser(t).Do(req); r.StatusCode != 401 {
		t.Fatalf("the revoked session's access token still works: %d", r.StatusCode)
	}

	// The browser follows {url}: the IdP ends its session and returns home.
	if got := location(t, b.Get(to)); got != app.URL {
		t.Fatalf("dev IdP logout redirected to %q", got)
	}
	if idp.Stats().Logouts != 1 {
		t.Fatalf("dev IdP logouts = %d", idp.Stats().Logouts)
	}
	// Back home, the browser is sent on to the callbackUrl given to signOut(),
	// once.
	if got := location(t, b.Get(app.URL+"/")); got != app.URL+"/bye" {
		t.Fatalf("after the IdP logout, home redirected to %q, want the callbackUrl", got)
	}
	if r := b.Get(app.URL + "/"); r.StatusCode != 200 {
		t.Fatalf("home after the return: %d", r.StatusCode)
	}
	// So the next sign-in shows the login page again instead of being silent.
	page := b.Get(b.StartSignIn(app.URL, "cognito", app.URL+"/protected"))
	if page.StatusCode != 200 || !strings.Contains(page.Body, "login-ada") {
		t.Fatalf("next sign-in after federated sign-out: %d (want the login page)", page.StatusCode)
	}

	// Redirect mode (a form POST) takes the same way out.
	b.SignInAs(app.URL, "grace")
	r := b.PostForm(app.URL+"/api/auth/signout", url.Values{"csrfToken": {b.CSRF(app.URL)}, "callbackUrl": {"/"}})
	if loc := location(t, r); !strings.HasPrefix(loc, want) {
		t.Fatalf("redirect-mode sign-out went to %q", loc)
	}
}

func TestSignoutWithoutFederation(t *testing.T) {
	app := startApp(t, bffEnv(t, "AUTH_FEDERATED_SIGNOUT", "0"))
	idp := devIdP(app.BFF)
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	if to := b.bffSignOut(app, app.URL+"/bye"); to != app.URL+"/bye" {
		t.Fatalf("sign-out url = %q, want the callbackUrl", to)
	}
	waitRevocations(idp, 1)
	if idp.Stats().Revocations != 1 || idp.Stats().Logouts != 0 {
		t.Fatalf("stats after local sign-out: %+v", idp.Stats())
	}
	if b.Session(app.URL) != nil {
		t.Fatal("still signed in after sign-out")
	}
	// The IdP session survives: the next sign-in comes straight back with a code.
	r := b.Get(b.StartSignIn(app.URL, "cognito", app.URL+"/protected"))
	if loc := location(t, r); !strings.HasPrefix(loc, app.URL+"/api/auth/callback/cognito?code=") {
		t.Fatalf("silent sign-in expected, got %q", loc)
	}
}

func TestSignoutGenericProviderWithoutEndSession(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	app := startApp(t, map[string]string{
		"AUTH_OKTA_ISSUER": f.Issuer(), "AUTH_OKTA_ID": f.ClientID, "AUTH_OKTA_SECRET": f.Secret,
		"NEXTAUTH_URL": "auto", "NEXTAUTH_SECRET": strings.Repeat("x", 32), "SESSION_STORE": "memory",
		"AUTH_FEDERATED_SIGNOUT": "1",
	})
	b := newBrowser(t)
	b.Get(location(t, b.Get(b.StartSignIn(app.URL, "okta", "/"))))
	if b.Session(app.URL) == nil {
		t.Fatal("okta sign-in failed")
	}
	// No end_session_endpoint and no revocation endpoint: the local
	// sign-out still happens and the user goes to the callbackUrl.
	if to := b.bffSignOut(app, "/bye"); to != app.URL+"/bye" {
		t.Fatalf("sign-out url = %q", to)
	}
	if b.Session(app.URL) != nil {
		t.Fatal("still signed in")
	}
}

// TestSignoutCognitoGuessedLogout: a Cognito provider whose discovery lists
// no end_session_endpoint (older pools) and no COGNITO_DOMAIN still gets
// federated sign-out by default, through the derived <hosted UI>/logout;
// AUTH_FEDERATED_SIGNOUT=0 turns it off.
func TestSignoutCognitoGuessedLogout(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	for _, tc := range []struct {
		setting, want string
	}{
		{"0", "callback"},
		{"", f.Srv.URL + "/logout?"},
		{"1", f.Srv.URL + "/logout?"},
	} {
		env := cognitoEnv(f)
		delete(env, "AUTH_FEDERATED_SIGNOUT")
		if tc.setting != "" {
			env["AUTH_FEDERATED_SIGNOUT"] = tc.setting
		}
		app := startApp(t, env)
		b := newBrowser(t)
		b.signInAt(app, "/")
		to := b.bffSignOut(app, "/bye")
		if tc.want == "callback" {
			if to != app.URL+"/bye" {
				t.Errorf("AUTH_FEDERATED_SIGNOUT=%q: sign-out url %q, want the callbackUrl", tc.setting, to)
			}
			continue
		}
		if q := testkit.MustQuery(t, to); !strings.HasPrefix(to, tc.want) || q.Get("logout_uri") != app.URL || q.Get("client_id") != f.ClientID {
			t.Errorf("AUTH_FEDERATED_SIGNOUT=%q: sign-out url %q", tc.setting, to)
		}
	}
}

// waitRevocations waits (at most 5 s) until idp has accepted n refresh
// token revocations: an ended session's token is revoked in the background,
// the sign-out does not wait for the IdP.
func waitRevocations(idp *devidp.IdP, n int) {
	for end := time.Now().Add(5 * time.Second); idp.Stats().Revocations < n && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
}
