package bff_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/testkit"
	"github.com/authbff/authbff/internal/testkit/fakeop"
)

// cognitoEnv configures authbff the way the NextAuth + Cognito tutorial does,
// against the fake provider.
func cognitoEnv(f *fakeop.OP) map[string]string {
	return map[string]string{
		"COGNITO_CLIENT_ID":     f.ClientID,
		"COGNITO_CLIENT_SECRET": f.Secret,
		"COGNITO_ISSUER":        f.Issuer(),
		"NEXTAUTH_URL":          "auto",
		"NEXTAUTH_SECRET":       "test-secret-test-secret-test-secret-0123",
		"SESSION_STORE":         "memory",
		// The fake provider has no /logout: sign-out stays local here
		// (federated sign-out is tested against the dev IdP).
		"AUTH_FEDERATED_SIGNOUT": "0",
	}
}

// signInAt runs the v4 client's sign-in against the fake IdP (which signs
// the user in at once) and returns the callback's response.
func (b *browser) signInAt(app *testApp, callbackURL string) response {
	b.T.Helper()
	return b.SignIn(app.URL, "cognito", callbackURL, "")
}

func TestExternalProviderIDTokenChecks(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	app := startApp(t, cognitoEnv(f))
	if devIdP(app.BFF) != nil {
		t.Fatal("dev IdP in use although Cognito is configured")
	}
	cases := []struct {
		name   string
		mutate func(c map[string]any) string
		ok     bool
	}{
		{"good", nil, true},
		{"bad signature", func(c map[string]any) string { return fakeop.FlipSig(f.Sign(c, f.Key)) }, false},
		{"wrong iss", func(c map[string]any) string { c["iss"] = f.Issuer() + "x"; return "" }, false},
		{"wrong aud", func(c map[string]any) string { c["aud"] = "another-client"; return "" }, false},
		{"wrong nonce", func(c map[string]any) string { c["nonce"] = "not-the-nonce"; return "" }, false},
		{"missing nonce", func(c map[string]any) string { delete(c, "nonce"); return "" }, false},
		{"expired", func(c map[string]any) string {
			c["exp"] = time.Now().Add(-6 * time.Minute).Unix()
			c["iat"] = time.Now().Add(-66 * time.Minute).Unix()
			return ""
		}, false},
		{"alg none", func(c map[string]any) string { return fakeop.Unsigned(c) }, false},
		{"unknown key", func(c map[string]any) string { return f.Sign(c, f.Rogue) }, false},
		{"token_use access", func(c map[string]any) string { c["token_use"] = "access"; return "" }, false},
		{"no sub", func(c map[string]any) string { delete(c, "sub"); return "" }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.Mutate = tc.mutate
			defer func() { f.Mutate = nil }()
			b := newBrowser(t)
			cb := b.signInAt(app, "/protected")
			loc := location(t, cb)
			sc := cookieNamed(cb.Cookies(), "next-auth.session-token")
			if tc.ok {
				if loc != app.URL+"/protected" || sc == nil || sc.Value == "" {
					t.Fatalf("good login: location %q, cookie %v", loc, sc)
				}
				if s := b.Session(app.URL); s == nil {
					t.Fatal("good login: no session")
				}
				return
			}
			if !strings.HasPrefix(loc, app.URL+"/api/auth/error?error=OAuthCallback") {
				t.Fatalf("bad ID token: redirected to %q, want the OAuthCallback error", loc)
			}
			if sc != nil && sc.Value != "" {
				t.Fatalf("bad ID token: a session cookie was set")
			}
			if s := b.Session(app.URL); s != nil {
				t.Fatalf("bad ID token: session %v", s)
			}
			// The error page (v4: forwarded to the sign-in page) answers.
			page := b.Get(location(t, b.Get(loc)))
			if page.StatusCode != 200 || !strings.Contains(page.Body, `data-code="OAuthCallback"`) {
				t.Fatalf("error page: %d %s", page.StatusCode, page.Body)
			}
		})
	}
}

func TestExternalProviderStateAndReplay(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	app := startApp(t, cognitoEnv(f))

	t.Run("tampered state", func(t *testing.T) {
		b := newBrowser(t)
		authURL := b.StartSignIn(app.URL, "cognito", "/")
		cbURL := location(t, b.Get(authURL))
		u, _ := url.Parse(cbURL)
		q := u.Query()
		q.Set("state", q.Get("state")+"x")
		u.RawQuery = q.Encode()
		calls := f.Calls()
		r := b.Get(u.String())
		if !strings.Contains(location(t, r), "error=OAuthCallback") || b.Session(app.URL) != nil {
			t.Fatalf("tampered state accepted: %s", location(t, r))
		}
		if f.Calls() != calls {
			t.Fatal("the token endpoint was called for a tampered state")
		}
	})

	t.Run("replayed callback", func(t *testing.T) {
		b := newBrowser(t)
		authURL := b.StartSignIn(app.URL, "cognito", "/")
		cbURL := location(t, b.Get(authURL))
		// Keep the flow cookie as an attacker replaying the request would.
		u, _ := url.Parse(app.URL)
		flowCookies := b.Client.Jar.Cookies(u)
		first := b.Get(cbURL)
		if !strings.HasSuffix(location(t, first), "/") || cookieNamed(first.Cookies(), "next-auth.session-token") == nil {
			t.Fatalf("first callback failed: %s", location(t, first))
		}
		calls := f.Calls()
		attacker := newBrowser(t)
		req, _ := http.NewRequest(http.MethodGet, cbURL, nil)
		for _, c := range flowCookies {
			req.AddCookie(c)
		}
		r := attacker.Do(req)
		if !strings.Contains(location(t, r), "error=OAuthCallback") || cookieNamed(r.Cookies(), "next-auth.session-token") != nil {
			t.Fatalf("replayed callback accepted: %s", location(t, r))
		}
		if f.Calls() != calls {
			t.Fatal("a replayed callback reached the token endpoint")
		}
	})

	t.Run("callback without a flow in this browser (login CSRF)", func(t *testing.T) {
		victim := newBrowser(t)
		attacker := newBrowser(t)
		authURL := attacker.StartSignIn(app.URL, "cognito", "/")
		cbURL := location(t, attacker.Get(authURL))
		r := victim.Get(cbURL)
		if !strings.Contains(location(t, r), "error=OAuthCallback") || victim.Session(app.URL) != nil {
			t.Fatal("callback accepted in a browser that never started the flow")
		}
	})

	t.Run("IdP error parameter", func(t *testing.T) {
		b := newBrowser(t)
		authURL := b.StartSignIn(app.URL, "cognito", "/")
		state := testkit.MustQuery(t, authURL).Get("state")
		calls := f.Calls()
		r := b.Get(app.URL + "/api/auth/callback/cognito?error=access_denied&state=" + url.QueryEscape(state))
		if loc := location(t, r); !strings.Contains(loc, "error=Callback") {
			t.Fatalf("IdP error: redirected to %s", loc)
		}
		if f.Calls() != calls {
			t.Fatal("the token endpoint was called after an IdP error")
		}
	})

	t.Run("two tabs sign in at once", func(t *testing.T) {
		b := newBrowser(t)
		url1 := b.StartSignIn(app.URL, "cognito", "/one")
		url2 := b.StartSignIn(app.URL, "cognito", "/two")
		cb1 := location(t, b.Get(url1))
		cb2 := location(t, b.Get(url2))
		if got := location(t, b.Get(cb2)); got != app.URL+"/two" {
			t.Fatalf("tab 2 landed on %s", got)
		}
		if got := location(t, b.Get(cb1)); got != app.URL+"/one" {
			t.Fatalf("tab 1 landed on %s", got)
		}
	})
}

func TestCallbackURLNeverLeavesOrigin(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	app := startApp(t, cognitoEnv(f))
	hostile := []string{
		"https://evil.example/", "//evil.example", "/\\evil.example", "\\\\evil.example",
		"/%2F%2Fevil.example", "%2F%2Fevil.example", "/%5Cevil.example", "/\t/evil.example",
		"http://127.0.0.1@evil.example/", "javascript:alert(1)", "data:text/html,x",
		"https:evil.example", "http://evil.example\\@127.0.0.1/", "  //evil.example",
	}
	for _, h := range hostile {
		t.Run(h, func(t *testing.T) {
			b := newBrowser(t)
			cb := b.signInAt(app, h)
			loc := location(t, cb)
			if loc != app.URL && !strings.HasPrefix(loc, app.URL+"/") {
				t.Fatalf("callbackUrl %q led to %q", h, loc)
			}
			if u, _ := url.Parse(loc); u.Host != mustHost(app.URL) || strings.HasPrefix(u.Path, "//") {
				t.Fatalf("callbackUrl %q led to %q", h, loc)
			}
			// Sign-out with the same value also stays home.
			tok := b.CSRF(app.URL)
			r := b.PostForm(app.URL+"/api/auth/signout", url.Values{"csrfToken": {tok}, "callbackUrl": {h}, "json": {"true"}})
			if !strings.Contains(r.Body, `"url":"`+app.URL) {
				t.Fatalf("signout with callbackUrl %q answered %s", h, r.Body)
			}
		})
	}
}

func mustHost(raw string) string {
	u, _ := url.Parse(raw)
	return u.Host
}

func TestCSRFRequiredOnPosts(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	app := startApp(t, cognitoEnv(f))
	b := newBrowser(t)
	b.signInAt(app, "/")
	if b.Session(app.URL) == nil {
		t.Fatal("setup: not signed in")
	}
	tok := b.CSRF(app.URL)
	cases := []struct {
		name string
		form url.Values
		hdr  []string
	}{
		{"no token", url.Values{"json": {"true"}}, nil},
		{"wrong token", url.Values{"csrfToken": {strings.Repeat("a", 64)}, "json": {"true"}}, nil},
		{"cross-site origin", url.Values{"csrfToken": {tok}, "json": {"true"}}, []string{"Origin", "https://evil.example"}},
		{"cross-site fetch", url.Values{"csrfToken": {tok}, "json": {"true"}}, []string{"Sec-Fetch-Site", "cross-site"}},
	}
	for _, tc := range cases {
		t.Run("signout "+tc.name, func(t *testing.T) {
			r := b.PostForm(app.URL+"/api/auth/signout", tc.form, tc.hdr...)
			if !strings.Contains(r.Body, "/api/auth/signout?csrf=true") {
				t.Fatalf("answer %d %s", r.StatusCode, r.Body)
			}
			if b.Session(app.URL) == nil {
				t.Fatal("a sign-out without a valid CSRF token ended the session")
			}
		})
		t.Run("signin "+tc.name, func(t *testing.T) {
			nb := newBrowser(t)
			own := nb.CSRF(app.URL)
			form := url.Values{}
			for k, v := range tc.form {
				form[k] = v
			}
			if form.Get("csrfToken") == tok {
				form.Set("csrfToken", own) // a valid token: only the origin is wrong
			}
			r := nb.PostForm(app.URL+"/api/auth/signin/cognito", form, tc.hdr...)
			if !strings.Contains(r.Body, "/api/auth/signin?csrf=true") {
				t.Fatalf("answer %d %s", r.StatusCode, r.Body)
			}
			for _, c := range r.Cookies() {
				if strings.HasPrefix(c.Name, "next-auth.state") {
					t.Fatal("a flow was started without a valid CSRF token")
				}
			}
		})
	}
	t.Run("session update", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, app.URL+"/api/auth/session", strings.NewReader(`{"data":{"name":"Mallory"}}`))
		req.Header.Set("Content-Type", "application/json")
		if r := b.Do(req); r.StatusCode != 400 || r.Body != "{}" {
			t.Fatalf("update without CSRF: %d %s", r.StatusCode, r.Body)
		}
		req, _ = http.NewRequest(http.MethodPost, app.URL+"/api/auth/session", strings.NewReader(`{"csrfToken":"`+tok+`","data":{"user":{"name":"Mallory"}}}`))
		req.Header.Set("Content-Type", "application/json")
		r := b.Do(req)
		if r.StatusCode != 200 || !strings.Contains(r.Body, "Ada Lovelace") || strings.Contains(r.Body, "Mallory") {
			t.Fatalf("update trusted the body: %d %s", r.StatusCode, r.Body)
		}
	})
	t.Run("valid sign-out ends the session", func(t *testing.T) {
		r := b.PostForm(app.URL+"/api/auth/signout", url.Values{"csrfToken": {tok}, "callbackUrl": {"/bye"}, "json": {"true"}})
		if r.StatusCode != 200 || !strings.Contains(r.Body, `"url":"`+app.URL+`/bye"`) {
			t.Fatalf("signout: %d %s", r.StatusCode, r.Body)
		}
		if b.Session(app.URL) != nil {
			t.Fatal("still signed in after sign-out")
		}
	})
}

// TestNoTokenLeaves drives a whole sign-in, session read and sign-out and
// checks that no token the IdP issued appears in any URL, header or body the
// browser saw, and that every authbff cookie is httpOnly.
func TestNoTokenLeaves(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	app := startApp(t, cognitoEnv(f))
	b := newBrowser(t)
	b.signInAt(app, "/protected")
	b.Session(app.URL)
	b.Get(app.URL + "/api/auth/providers")
	tok := b.CSRF(app.URL)
	b.PostForm(app.URL+"/api/auth/session", url.Values{"csrfToken": {tok}})
	b.PostForm(app.URL+"/api/auth/signout", url.Values{"csrfToken": {tok}, "json": {"true"}})
	issued := f.Issued()
	if len(issued) != 3 {
		t.Fatalf("expected one token response, got %d tokens", len(issued))
	}
	for _, seen := range b.Rec.Seen() {
		for _, tok := range issued {
			if strings.Contains(seen, tok) || strings.Contains(seen, tok[:20]) {
				t.Fatalf("token material visible to the browser in %q", seen)
			}
		}
	}
	for _, c := range b.Rec.Set() {
		if !c.HttpOnly {
			t.Fatalf("cookie %s is not httpOnly", c.Name)
		}
	}
}

// TestFlowCookiesAreBounded: repeated sign-in clicks keep at most four
// flows (cookies) in the browser; the newest ones still complete.
func TestFlowCookiesAreBounded(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	app := startApp(t, cognitoEnv(f))
	b := newBrowser(t)
	var urls []string
	for i := 0; i < 7; i++ {
		urls = append(urls, b.StartSignIn(app.URL, "cognito", fmt.Sprintf("/tab%d", i)))
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	u, _ := url.Parse(app.URL)
	n := 0
	for _, c := range b.Client.Jar.Cookies(u) {
		if strings.HasPrefix(c.Name, "next-auth.state.") {
			n++
		}
	}
	if n != nextauth.MaxFlows {
		t.Fatalf("%d flow cookies after 7 sign-in starts, want %d", n, nextauth.MaxFlows)
	}
	if got := location(t, b.Get(location(t, b.Get(urls[6])))); got != app.URL+"/tab6" {
		t.Fatalf("newest flow landed on %s", got)
	}
	if got := location(t, b.Get(location(t, b.Get(urls[0])))); !strings.Contains(got, "error=OAuthCallback") {
		t.Fatalf("a pruned flow still completed: %s", got)
	}
}
