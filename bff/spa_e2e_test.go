package bff_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestProtectedPathsGuard: PROTECTED_PATHS is enforced by the server before
// the SPA is served. Without a session a page navigation is redirected home
// (302, never cached) and a fetch under /api/ gets 401 JSON; with a session
// the page is served.
func TestProtectedPathsGuard(t *testing.T) {
	app := startApp(t, map[string]string{
		"AUTHBFF_DATA_DIR": t.TempDir(),
		"SESSION_STORE":    "memory",
		"PROTECTED_PATHS":  "/protected*,/account,/api/private*",
	})
	b := newBrowser(t)

	for _, p := range []string{"/protected", "/protected/", "/protected.html", "/protected/orders/7", "/account"} {
		r := b.Get(app.URL + p)
		if r.StatusCode != http.StatusFound || r.Header.Get("Location") != app.URL+"/" {
			t.Errorf("signed out GET %s = %d Location %q, want 302 to %s/", p, r.StatusCode, r.Header.Get("Location"), app.URL)
		}
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("signed out GET %s: Cache-Control %q, want no-store", p, cc)
		}
	}
	for _, p := range []string{"/", "/accounts", "/about"} {
		if r := b.Get(app.URL + p); r.StatusCode != http.StatusOK {
			t.Errorf("GET %s (not protected) = %d, want 200", p, r.StatusCode)
		}
	}

	api := b.Get(app.URL + "/api/private/orders")
	var body struct{ Error, Message string }
	if err := json.Unmarshal([]byte(api.Body), &body); err != nil || api.StatusCode != http.StatusUnauthorized ||
		body.Error != "unauthenticated" || !strings.HasPrefix(api.Header.Get("Content-Type"), "application/json") {
		t.Errorf("signed out GET /api/private/orders = %d %s %q (%v), want 401 JSON error unauthenticated",
			api.StatusCode, api.Header.Get("Content-Type"), api.Body, err)
	}

	// A cookie that is not a session is no session.
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/protected", nil)
	req.AddCookie(&http.Cookie{Name: "next-auth.session-token", Value: "forged"})
	if r := b.Do(req); r.StatusCode != http.StatusFound {
		t.Errorf("GET /protected with a forged session cookie = %d, want 302", r.StatusCode)
	}

	// Sign in as Ada through the dev IdP, then the page is served.
	cb := b.DevLogin(b.Get(b.StartSignIn(app.URL, "cognito", app.URL+"/protected")), "ada")
	if got := location(t, b.Get(location(t, cb))); got != app.URL+"/protected" {
		t.Fatalf("after sign-in: redirected to %q", got)
	}
	page := b.Get(app.URL + "/protected")
	if page.StatusCode != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(page.Body, "<title>Protected page") {
		t.Fatalf("signed in GET /protected = %d %s:\n%s", page.StatusCode, page.Header.Get("Content-Type"), page.Body)
	}
	if cc := page.Header.Get("Cache-Control"); !strings.Contains(cc, "no-cache") && !strings.Contains(cc, "no-store") {
		t.Errorf("signed in GET /protected: Cache-Control %q lets a shared cache keep the page", cc)
	}
	if r := b.Get(app.URL + "/account"); r.StatusCode != http.StatusOK {
		t.Errorf("signed in GET /account = %d, want 200", r.StatusCode)
	}
	// With a session the guard lets the fetch through: there is no such
	// API route, so 404 JSON, not 401.
	if r := b.Get(app.URL + "/api/private/orders"); r.StatusCode != http.StatusNotFound {
		t.Errorf("signed in GET /api/private/orders = %d %s, want the route's own 404", r.StatusCode, r.Body)
	}
}

// TestLoopbackAliasGoesToTheConfiguredHost: with no NEXTAUTH_URL the server
// is http://localhost:<port>; a browser on http://127.0.0.1:<port> is sent
// there (cookies and the redirect_uri are bound to one host name). With
// NEXTAUTH_URL set, nothing is redirected.
func TestLoopbackAliasGoesToTheConfiguredHost(t *testing.T) {
	app := startApp(t, map[string]string{"SESSION_STORE": "memory"})
	if !strings.HasPrefix(app.URL, "http://localhost:") {
		t.Fatalf("default URL %s", app.URL)
	}
	alias := strings.Replace(app.URL, "localhost", "127.0.0.1", 1)
	b := newBrowser(t)
	if got := location(t, b.Get(alias+"/protected?x=1")); got != app.URL+"/protected?x=1" {
		t.Fatalf("alias redirected to %q", got)
	}
	if r := b.Get(alias + "/api/auth/providers"); r.StatusCode != 200 {
		t.Fatalf("API calls are not redirected: %d", r.StatusCode)
	}
	set := startApp(t, map[string]string{"SESSION_STORE": "memory", "NEXTAUTH_URL": "auto"})
	if r := b.Get(strings.Replace(set.URL, "127.0.0.1", "localhost", 1) + "/"); r.StatusCode != 200 {
		t.Fatalf("with NEXTAUTH_URL set: %d", r.StatusCode)
	}
}
