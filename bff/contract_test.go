package bff_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/testkit"
	"github.com/authbff/authbff/internal/testkit/fakeop"
)

func TestV5Flavor(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	env := cognitoEnv(f)
	env["AUTH_CLIENT_FLAVOR"] = "v5"
	delete(env, "COGNITO_CLIENT_ID")
	delete(env, "COGNITO_CLIENT_SECRET")
	delete(env, "COGNITO_ISSUER")
	env["AUTH_COGNITO_ID"], env["AUTH_COGNITO_SECRET"], env["AUTH_COGNITO_ISSUER"] = f.ClientID, f.Secret, f.Issuer()
	app := startApp(t, env)
	b := newBrowser(t)
	base := app.URL + "/api/auth"

	if r := b.Get(base + "/session"); r.Body != "null" {
		t.Fatalf("v5 empty session = %q, want null", r.Body)
	}
	var provs map[string]nextauth.ProviderJSON
	_ = json.Unmarshal([]byte(b.Get(base+"/providers").Body), &provs)
	if provs["cognito"].Type != "oidc" {
		t.Fatalf("v5 provider type = %q", provs["cognito"].Type)
	}
	r := b.Get(base + "/csrf")
	if cookieNamed(r.Cookies(), "authjs.csrf-token") == nil {
		t.Fatal("v5 CSRF cookie is not authjs.csrf-token")
	}
	tok := b.CSRF(app.URL)
	post := func(path string, form url.Values) response {
		return b.PostForm(base+path, form, "X-Auth-Return-Redirect", "1")
	}
	if r := post("/signin/cognito", url.Values{"csrfToken": {"bad"}}); !strings.Contains(r.Body, base+"/signin?error=MissingCSRF") {
		t.Fatalf("v5 bad CSRF: %s", r.Body)
	}
	if r := post("/signin/nope", url.Values{"csrfToken": {tok}}); !strings.Contains(r.Body, base+"/error?error=Configuration") {
		t.Fatalf("v5 unknown provider: %s", r.Body)
	}
	f.Mutate = func(c map[string]any) string { c["aud"] = "other"; return "" }
	r = post("/signin/cognito", url.Values{"csrfToken": {tok}, "callbackUrl": {"/p"}})
	var v struct{ URL string }
	_ = json.Unmarshal([]byte(r.Body), &v)
	cb := b.Get(location(t, b.Get(v.URL)))
	if loc := location(t, cb); !strings.HasPrefix(loc, base+"/error?error=OAuthCallbackError") {
		t.Fatalf("v5 bad token: %s", loc)
	}
	f.Mutate = nil
	r = post("/signin/cognito", url.Values{"csrfToken": {tok}, "callbackUrl": {"/p"}})
	_ = json.Unmarshal([]byte(r.Body), &v)
	cb = b.Get(location(t, b.Get(v.URL)))
	if location(t, cb) != app.URL+"/p" || cookieNamed(cb.Cookies(), "authjs.session-token") == nil {
		t.Fatalf("v5 sign-in: %s %v", location(t, cb), cb.Cookies())
	}
	if s := b.Session(app.URL); s == nil {
		t.Fatal("v5: no session after sign-in")
	}
	if r := post("/signout", url.Values{"csrfToken": {"bad"}}); !strings.Contains(r.Body, base+"/signin?error=MissingCSRF") {
		t.Fatalf("v5 signout bad CSRF: %s", r.Body)
	}
	if s := b.Session(app.URL); s == nil {
		t.Fatal("v5: bad-CSRF sign-out ended the session")
	}
}

// TestCognitoTokenErrorDiagnosis: the infamous unauthorized_client from
// /oauth2/token is shown with its cause and fix.
func TestCognitoTokenErrorDiagnosis(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	f.TokenError = "unauthorized_client"
	app := startApp(t, cognitoEnv(f))
	b := newBrowser(t)
	cb := b.signInAt(app, "/")
	loc := location(t, cb)
	if !strings.Contains(loc, "error=OAuthCallback") || !strings.Contains(loc, "code=unauthorized_client") {
		t.Fatalf("redirected to %s", loc)
	}
	page := b.Get(location(t, b.Get(loc)))
	// The page lets the diagnosis's URLs wrap after each "/" (<wbr>).
	text := strings.ReplaceAll(page.Body, "<wbr>", "")
	for _, want := range []string{"unauthorized_client", "Authorization code grant", app.URL + "/api/auth/callback/cognito", `id="diagnosis"`} {
		if !strings.Contains(text, want) {
			t.Errorf("error page lacks %q:\n%s", want, page.Body)
		}
	}
	if strings.Contains(page.Body, "forced by the test") {
		t.Error("the IdP's error_description reached the page (it belongs in the log)")
	}
	if b.Session(app.URL) != nil {
		t.Fatal("signed in despite a token error")
	}
}

func TestGenericAndPublicProviders(t *testing.T) {
	t.Run("generic OIDC provider", func(t *testing.T) {
		f := fakeop.New(t, fakeop.Options{Cognito: true})
		app := startApp(t, map[string]string{
			"AUTH_OKTA_ISSUER": f.Issuer(), "AUTH_OKTA_ID": f.ClientID, "AUTH_OKTA_SECRET": f.Secret,
			"NEXTAUTH_URL": "auto", "NEXTAUTH_SECRET": strings.Repeat("x", 32), "SESSION_STORE": "memory",
		})
		b := newBrowser(t)
		authURL := b.StartSignIn(app.URL, "okta", "/")
		cb := b.Get(location(t, b.Get(authURL)))
		if location(t, cb) != app.URL+"/" || b.Session(app.URL) == nil {
			t.Fatalf("okta sign-in: %s", location(t, cb))
		}
	})
	t.Run("public Cognito client", func(t *testing.T) {
		f := fakeop.New(t, fakeop.Options{Cognito: true})
		f.Secret = ""
		env := cognitoEnv(f)
		delete(env, "COGNITO_CLIENT_SECRET")
		app := startApp(t, env)
		b := newBrowser(t)
		if location(t, b.signInAt(app, "/")) != app.URL+"/" || b.Session(app.URL) == nil {
			t.Fatal("public client sign-in failed")
		}
	})
}

// TestSigninMergesAuthorizationParams: signIn('cognito', opts, {identity_provider:
// 'Google', prompt: 'login'}) puts them in the query of POST /signin; they
// reach the authorize URL, but can never override the protected ones.
func TestSigninMergesAuthorizationParams(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	app := startApp(t, cognitoEnv(f))
	b := newBrowser(t)
	tok := b.CSRF(app.URL)
	r := b.PostForm(app.URL+"/api/auth/signin/cognito?identity_provider=Google&prompt=login&redirect_uri=https%3A%2F%2Fevil.example%2F&state=x",
		url.Values{"csrfToken": {tok}, "json": {"true"}})
	var v struct{ URL string }
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	q := testkit.MustQuery(t, v.URL)
	if q.Get("identity_provider") != "Google" || q.Get("prompt") != "login" {
		t.Fatalf("authorization params not merged: %s", v.URL)
	}
	if q.Get("redirect_uri") != app.URL+"/api/auth/callback/cognito" || q.Get("state") == "x" || len(q["state"]) != 1 {
		t.Fatalf("a protected parameter was overridden: %s", v.URL)
	}
	// Without json=true (a plain form POST) the answer is a 302 there.
	r = b.PostForm(app.URL+"/api/auth/signin/cognito", url.Values{"csrfToken": {tok}})
	if loc := location(t, r); !strings.HasPrefix(loc, f.Srv.URL+"/oauth2/authorize?") {
		t.Fatalf("form POST redirected to %s", loc)
	}
}

// TestCustomBasePath: NEXTAUTH_URL with a path moves the NextAuth routes
// there (docs/contract.md: https://x.io/auth -> /auth), and every URL follows.
func TestCustomBasePath(t *testing.T) {
	app := startApp(t, map[string]string{"SESSION_STORE": "memory", "NEXTAUTH_URL": "auto/auth"})
	b := newBrowser(t)
	var provs map[string]nextauth.ProviderJSON
	if err := json.Unmarshal([]byte(b.Get(app.URL+"/auth/providers").Body), &provs); err != nil {
		t.Fatal(err)
	}
	if p := provs["cognito"]; p.SigninURL != app.URL+"/auth/signin/cognito" || p.CallbackURL != app.URL+"/auth/callback/cognito" {
		t.Fatalf("providers: %+v", p)
	}
	if r := b.Get(app.URL + "/api/auth/providers"); r.StatusCode == 200 && strings.Contains(r.Body, "signinUrl") {
		t.Fatal("the default base path still answers")
	}
	tok := b.Get(app.URL + "/auth/csrf")
	var v struct{ CsrfToken string }
	_ = json.Unmarshal([]byte(tok.Body), &v)
	r := b.PostForm(app.URL+"/auth/signin/cognito", url.Values{"csrfToken": {v.CsrfToken}, "callbackUrl": {"/protected"}, "json": {"true"}})
	var u struct{ URL string }
	if err := json.Unmarshal([]byte(r.Body), &u); err != nil || testkit.MustQuery(t, u.URL).Get("redirect_uri") != app.URL+"/auth/callback/cognito" {
		t.Fatalf("signin: %d %s", r.StatusCode, r.Body)
	}
	cb := b.DevLogin(b.Get(u.URL), "grace")
	if got := location(t, b.Get(location(t, cb))); got != app.URL+"/protected" {
		t.Fatalf("callback led to %s", got)
	}
	var sess map[string]any
	_ = json.Unmarshal([]byte(b.Get(app.URL+"/auth/session").Body), &sess)
	if u, _ := sess["user"].(map[string]any); u["name"] != "Grace Hopper" {
		t.Fatalf("session: %v", sess)
	}
}
