package bff_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The browser tests drive a real headless Chromium against a real authbff
// (dev IdP mode, memory store): the embedded SPA with its own auth client,
// and the REAL next-auth/react clients (v4 and v5 beta) bundled by
// spa/testdata/nextauth (`make deps` builds them). Every page state is saved
// as a PNG under $CI_OUT/screenshots.

// browserApps are the SPAs under test: the embedded one, and the real
// next-auth/react clients served with SPA_DIR.
var browserApps = []struct {
	name   string
	dist   string // spa/testdata/nextauth/<dist>, "" = embedded SPA
	flavor string // AUTH_CLIENT_FLAVOR
}{
	{"embedded", "", ""},
	{"next-auth-v4", "dist-v4", "v4"},
	{"next-auth-v5", "dist-v5", "v5"},
}

// startBrowserApp starts authbff in dev IdP mode serving the given SPA. With
// no NEXTAUTH_URL its URL is http://localhost:<port>, which the browser uses
// too, so cookies and redirects agree.
func startBrowserApp(t *testing.T, dist, flavor string) *testApp {
	t.Helper()
	env := map[string]string{"AUTHBFF_DATA_DIR": t.TempDir(), "SESSION_STORE": "memory"}
	if dist != "" {
		dir, err := filepath.Abs(filepath.Join("..", "spa", "testdata", "nextauth", dist))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
			t.Fatalf("%s is not built (%v): run make deps (npm ci && npm run build in spa/testdata/nextauth)", dir, err)
		}
		env["SPA_DIR"] = dir
	}
	if flavor != "" {
		env["AUTH_CLIENT_FLAVOR"] = flavor
	}
	app := startApp(t, env)
	if devIdP(app.BFF) == nil {
		t.Fatal("no provider configured, but the dev IdP is not in use")
	}
	if !strings.HasPrefix(app.URL, "http://localhost:") {
		t.Fatalf("app URL = %q, want http://localhost:<port>", app.URL)
	}
	return app
}

// TestBrowserJourney: signed out home -> Sign in -> dev IdP login page ->
// Ada -> the protected page -> home says "Welcome, Ada Lovelace" -> Sign out
// -> home signed out; /protected signed out is redirected home by the
// server; a sign-out in one tab signs out the other tab without a reload.
func TestBrowserJourney(t *testing.T) {
	chromiumPath(t)
	for _, sa := range browserApps {
		t.Run(sa.name, func(t *testing.T) {
			t.Parallel()
			app := startBrowserApp(t, sa.dist, sa.flavor)
			c := newChrome(t)
			tabA := c.root

			c.signInJourney(tabA, app, true)
			c.signOutFromHome(tabA)

			// A signed-out visit to /protected is sent home by the server
			// (302), not by the page's script.
			c.run(tabA, "open /protected signed out", chromedp.Navigate(app.URL+"/protected"))
			c.waitPage(tabA, "redirected home", "/", "unauthenticated")
			redirects := eval[int](c, tabA, "redirect count", `performance.getEntriesByType("navigation")[0].redirectCount`)
			if redirects != 1 {
				t.Errorf("signed-out /protected reached home after %d redirects, want the server's 1", redirects)
			}
			c.shot(tabA, "protected-signed-out-redirected-home")

			// Two tabs: a sign-out in tab A reaches tab B without a reload.
			// Whether this sign-in shows the login page again depends on
			// federated sign-out (AUTH_FEDERATED_SIGNOUT) having ended the
			// IdP's hosted-UI session; the journey accepts both.
			c.signInJourney(tabA, app, false)
			tabB := c.newTab("tabB")
			c.run(tabB, "open home in tab B", chromedp.Navigate(app.URL+"/"))
			c.waitPage(tabB, "tab B signed in", "/", "authenticated")
			eval[bool](c, tabB, "mark tab B", `window.__notReloaded = true`)
			c.shot(tabB, "tabB-signed-in")
			c.run(tabA, "tab A home", chromedp.Navigate(app.URL+"/"))
			c.waitPage(tabA, "tab A signed in", "/", "authenticated")
			c.signOutFromHome(tabA)
			c.waitJS(tabB, "tab B signed out by tab A", `document.querySelector("#status")?.textContent === "unauthenticated" && document.querySelector("#signin") !== null`)
			if !eval[bool](c, tabB, "tab B not reloaded", `window.__notReloaded === true`) {
				t.Error("tab B was reloaded; it should have followed the sign-out in place")
			}
			c.shot(tabB, "tabB-signed-out-by-tabA")

			if v := c.cspViolations(); len(v) > 0 {
				t.Errorf("Content-Security-Policy violations:\n%s", strings.Join(v, "\n"))
			}
		})
	}
}

// signInJourney: home (signed out) -> Sign in -> dev IdP login page -> Ada
// -> the protected page -> Home -> "Welcome, Ada Lovelace". With mustLogin
// false a live hosted-UI session may skip the login page (silent SSO).
func (c *chrome) signInJourney(tab context.Context, app *testApp, mustLogin bool) {
	t := c.t
	t.Helper()
	c.run(tab, "open home", chromedp.Navigate(app.URL+"/"))
	c.waitPage(tab, "home signed out", "/", "unauthenticated")
	c.shot(tab, "home-signed-out")

	c.click(tab, "click Sign in", "#signin")
	loginPage := `location.pathname.startsWith("` + devIdPPath + `/") && document.querySelector('[data-testid="login-ada"]') !== null`
	if !mustLogin {
		c.waitJS(tab, "dev IdP login page or silent SSO", loginPage+` || (location.pathname === "/protected" && document.querySelector("#status")?.textContent === "authenticated")`)
	} else {
		c.waitJS(tab, "dev IdP login page", loginPage)
	}
	if eval[bool](c, tab, "on the login page?", loginPage) {
		c.shot(tab, "devidp-login")
		c.click(tab, "sign in as Ada", `[data-testid="login-ada"]`)
	}
	c.waitPage(tab, "protected page signed in", "/protected", "authenticated")
	if got := c.text(tab, "protected content", "#protected-content"); got != "You are signed in as ada@example.com" {
		t.Errorf("#protected-content = %q", got)
	}
	if cookies := eval[string](c, tab, "document.cookie", `document.cookie`); strings.Contains(cookies, "session-token") {
		t.Errorf("the session cookie is readable by scripts: %q", cookies)
	}
	c.shot(tab, "protected-signed-in")

	c.click(tab, "click Home", "#home-link")
	c.waitPage(tab, "home signed in", "/", "authenticated")
	if got := c.text(tab, "welcome", "#welcome"); got != "Welcome, Ada Lovelace" {
		t.Errorf("#welcome = %q, want %q", got, "Welcome, Ada Lovelace")
	}
	// The avatar cannot load here (no network but localhost): no broken
	// image is left on the page.
	c.waitJS(tab, "no broken avatar", `[...document.querySelectorAll("img")].every(i => i.complete && i.naturalWidth > 0)`)
	c.shot(tab, "home-signed-in")
}

// signOutFromHome clicks Sign out on the signed-in home page and checks the
// page and the server both say signed out.
func (c *chrome) signOutFromHome(tab context.Context) {
	t := c.t
	t.Helper()
	c.click(tab, "click Sign out", "#signout")
	c.waitPage(tab, "home signed out after sign-out", "/", "unauthenticated")
	session := eval[string](c, tab, "session after sign-out", `fetch("/api/auth/session").then(r => r.text())`)
	if s := strings.TrimSpace(session); s != "{}" && s != "null" {
		t.Errorf("after sign-out GET /api/auth/session = %s", session)
	}
	c.shot(tab, "home-signed-out-after-signout")
}
