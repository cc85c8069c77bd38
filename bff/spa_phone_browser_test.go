package bff_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserSPAPhoneLayout (issue 25): the bundled SPA signed in through
// the real flow (dev IdP, real Chromium) at a phone's 390x844 viewport:
//   - Sign in lands on the page with the dashboard (session countdown,
//     access token, demo API, sessions);
//   - with a second session (another browser context, its own cookie jar)
//     "This browser" is the FIRST entry of Your sessions;
//   - home, dashboard and error page have no horizontal overflow, no word
//     (e.g. the error page's code chip unauthorized_client) broken across
//     lines, and each countdown, hop label and code chip on one line.
//
// Full-page PNGs of each go to $SPA_SCREENSHOTS when set, else to
// $CI_OUT/screenshots (else a temporary directory).
func TestBrowserSPAPhoneLayout(t *testing.T) {
	chromiumPath(t)
	app := startBrowserApp(t, "", "")
	c := newChrome(t)
	if dir := os.Getenv("SPA_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		c.shots = dir
	}
	phone := c.root
	c.run(phone, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))

	c.run(phone, "open home", chromedp.Navigate(app.URL+"/"))
	c.waitPage(phone, "home signed out", "/", "unauthenticated")
	c.fullShot(phone, "phone-home-signed-out")
	c.checkLayout(phone, "home signed out", nil)

	landing := c.signInAda(phone, "phone")
	if !c.showsDashboard(phone) {
		// Go on with the dashboard where it is, to report every problem.
		t.Errorf("sign-in landed on %s, which does not show the dashboard", landing)
		landing = "/"
		c.run(phone, "open home", chromedp.Navigate(app.URL+landing))
	}
	c.waitDashboard(phone, "dashboard")

	// A second session of the same user in another browser context (its
	// own cookies), signed in after this one: the server lists it first
	// (most recently used).
	other, cancel := chromedp.NewContext(c.root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(other); err != nil {
		t.Fatalf("open a second browser context: %v", err)
	}
	c.listen(other, "other")
	c.run(other, "other: open home", chromedp.Navigate(app.URL+"/"))
	c.waitPage(other, "other: home signed out", "/", "unauthenticated")
	c.signInAda(other, "other")

	c.run(phone, "reload the dashboard", chromedp.Reload())
	c.waitDashboard(phone, "landing page with two sessions")
	c.waitJS(phone, "two sessions listed", `document.querySelectorAll("#session-list > li").length >= 2`)
	first := eval[string](c, phone, "first session", `(() => {
		const li = document.querySelector("#session-list > li");
		return (li.classList.contains("current") ? "current: " : "other: ") + li.innerText.replace(/\s+/g, " ").trim();
	})()`)
	if !strings.HasPrefix(first, "current: ") || !strings.Contains(first, "This browser") {
		t.Errorf("the first entry of Your sessions is %q, want this browser's (marked This browser)", first)
	}
	c.click(phone, "call the demo API", "#call-demo")
	c.waitJS(phone, "demo API answered", `document.querySelector("#demo-status")?.classList.contains("ok")`)
	c.click(phone, "open the demo API's response", "#demo-panel summary")
	c.waitJS(phone, "response shown", `document.querySelector("#demo-result")?.offsetHeight > 0`)
	c.fullShot(phone, "phone-dashboard")
	c.checkLayout(phone, "dashboard", []string{"#session-countdown", "#token-countdown", ".hops code", ".sessions .badge"})
	// Each hop of the demo call: its name on a line of its own, what it
	// does below it (not run on after the name and wrapped under it).
	if bad := eval[[]string](c, phone, "hops stacked", `[...document.querySelectorAll(".hops li")].filter(li => {
		const name = li.querySelector("code").getBoundingClientRect();
		const what = li.querySelector("span").getClientRects()[0];
		return !what || what.top < name.bottom - 1;
	}).map(li => li.innerText)`); len(bad) > 0 {
		t.Errorf("dashboard at 390 px: hops whose description runs on after the name: %q", bad)
	}

	c.run(phone, "open home signed in", chromedp.Navigate(app.URL+"/"))
	c.waitPage(phone, "home signed in", "/", "authenticated")
	c.fullShot(phone, "phone-home-signed-in")
	c.checkLayout(phone, "home signed in", nil)

	// The provider's refusal: v4 shows it on the sign-in page, the error
	// page shows it for the other codes; both with the code chip and a
	// diagnosis holding the callback URL.
	for _, p := range []struct{ name, query string }{
		{"sign-in page with an error", "error=OAuthCallback&provider=cognito&code=unauthorized_client"},
		{"error page", "error=Configuration&provider=cognito&code=unauthorized_client"},
	} {
		c.run(phone, "open the "+p.name, chromedp.Navigate(app.URL+"/api/auth/error?"+p.query))
		c.waitJS(phone, p.name, `document.querySelector("#error") !== null && document.querySelector("#diagnosis") !== null && document.readyState === "complete"`)
		if n := eval[int](c, phone, p.name+": code chips", `document.querySelectorAll("main code").length`); n == 0 {
			t.Errorf("the %s shows no code chip", p.name)
		}
		c.fullShot(phone, "phone-"+p.name)
		c.checkLayout(phone, p.name, []string{"main code"})
	}

	if v := c.cspViolations(); len(v) > 0 {
		t.Errorf("Content-Security-Policy violations:\n%s", strings.Join(v, "\n"))
	}
}

// signInAda signs ada in from the signed-out home page of tab through the
// dev IdP's login page and returns the path the sign-in landed on.
func (c *chrome) signInAda(tab context.Context, name string) string {
	c.t.Helper()
	c.click(tab, name+": click Sign in", "#signin")
	c.waitJS(tab, name+": dev IdP login page", `location.pathname.startsWith("`+devIdPPath+`/") && document.querySelector('[data-testid="login-ada"]') !== null`)
	c.click(tab, name+": sign in as Ada", `[data-testid="login-ada"]`)
	c.waitJS(tab, name+": signed in", `!location.pathname.startsWith("`+devIdPPath+`/") && !location.pathname.startsWith("/api/") && document.readyState === "complete" && document.querySelector("#status")?.textContent === "authenticated"`)
	return eval[string](c, tab, name+": landing path", `location.pathname`)
}

// showsDashboard reports whether the page in tab shows the dashboard
// within a few seconds.
func (c *chrome) showsDashboard(tab context.Context) bool {
	c.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if eval[bool](c, tab, "dashboard?", dashboardJS) {
			return true
		}
	}
	return false
}

const dashboardJS = `["#session-panel", "#token-panel", "#demo-panel", "#sessions-panel"].every(s => document.querySelector(s)?.offsetHeight > 0) && !!document.querySelector("#session-countdown")?.textContent.includes(":")`

// waitDashboard waits until the page shows the dashboard's panels.
func (c *chrome) waitDashboard(tab context.Context, step string) {
	c.t.Helper()
	c.waitJS(tab, step, dashboardJS)
}

// layoutJS returns the layout problems of the page: horizontal overflow, a
// word broken across two lines (outside <pre>), and elements of the given
// selectors (JSON array in __oneLine) rendering on more than one line.
const layoutJS = `(() => {
	const problems = [];
	const de = document.documentElement;
	if (de.scrollWidth > de.clientWidth) problems.push("horizontal overflow: scrollWidth " + de.scrollWidth + " > clientWidth " + de.clientWidth);
	// Lines of a range: its boxes grouped by vertical overlap.
	const lines = (range) => {
		const spans = [];
		for (const r of range.getClientRects()) {
			if (r.width === 0 || r.height === 0) continue;
			const same = spans.find(s => r.top < s.bottom - 1 && r.bottom > s.top + 1);
			if (same) { same.top = Math.min(same.top, r.top); same.bottom = Math.max(same.bottom, r.bottom); }
			else spans.push({ top: r.top, bottom: r.bottom });
		}
		return spans.length;
	};
	const where = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walker.nextNode(); n; n = walker.nextNode()) {
		if (n.parentElement.closest("pre, script, style, [hidden]")) continue;
		for (const m of n.data.matchAll(/[\p{L}\p{N}_]{2,}/gu)) {
			const r = document.createRange();
			r.setStart(n, m.index);
			r.setEnd(n, m.index + m[0].length);
			if (lines(r) > 1) problems.push("word " + JSON.stringify(m[0]) + " broken across lines in " + where(n.parentElement));
		}
	}
	for (const sel of window.__oneLine) {
		for (const el of document.querySelectorAll(sel)) {
			if (el.offsetParent === null) continue;
			const r = document.createRange();
			r.selectNodeContents(el);
			const n = lines(r);
			if (n !== 1) problems.push(sel + " " + JSON.stringify(el.textContent) + " renders on " + n + " lines");
			const box = el.getBoundingClientRect();
			if (box.right > de.clientWidth + 0.5 || box.left < -0.5) problems.push(sel + " " + JSON.stringify(el.textContent) + " sticks out of the viewport (" + Math.round(box.left) + ".." + Math.round(box.right) + ")");
		}
	}
	return problems;
})()`

// checkLayout fails the test with the layout problems of the page in tab;
// oneLine are selectors whose every visible element must render on one
// line inside the viewport.
func (c *chrome) checkLayout(tab context.Context, page string, oneLine []string) {
	c.t.Helper()
	if oneLine == nil {
		oneLine = []string{}
	}
	sels := make([]string, len(oneLine))
	for i, s := range oneLine {
		sels[i] = "'" + s + "'"
	}
	eval[bool](c, tab, page+": selectors", `(window.__oneLine = [`+strings.Join(sels, ",")+`], true)`)
	for _, p := range eval[[]string](c, tab, page+": layout", layoutJS) {
		c.t.Errorf("%s at 390 px: %s", page, p)
	}
}

// fullShot saves a PNG of the whole page (beyond the viewport) of tab.
func (c *chrome) fullShot(ctx context.Context, step string) {
	c.t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Errorf("screenshot %s: %v", step, err)
		return
	}
	c.n++
	name := filepath.Join(c.shots, fileSafe(c.t.Name())+"-"+fileSafe(step)+".png")
	if err := os.WriteFile(name, png, 0o644); err != nil {
		c.t.Errorf("screenshot %s: %v", step, err)
	}
	c.t.Logf("screenshot %s", name)
}
