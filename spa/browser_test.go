package spa

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBrowserRendersSession loads the embedded SPA, and the next-auth/react
// fixture builds (testdata/nextauth: npm ci && npm run build, done by make deps),
// in headless Chromium under the real CSP and checks what each renders for a
// signed-out and a signed-in session. A CSP violation or a broken bundle
// leaves the page at "loading".
func TestBrowserRendersSession(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Chromium (skipped by -short)")
	}
	chromium := findChromium()
	if chromium == "" {
		t.Fatal("chromium not found: install chromium: apt-get install -y chromium (or run make deps)")
	}
	signedIn := `{"user":{"name":"Ada","email":"ada@example.com"},"expires":"2030-01-01T00:00:00.000Z"}`
	apps := []struct {
		name, dir, signedOut string
	}{
		{"embedded", "", "{}"},
		{"embedded-null", "", "null"},
		{"next-auth-v4", "testdata/nextauth/dist-v4", "{}"},
		{"next-auth-v5", "testdata/nextauth/dist-v5", "null"},
	}
	for _, app := range apps {
		t.Run(app.name, func(t *testing.T) {
			t.Parallel()
			o := Options{}
			if app.dir != "" {
				if _, err := os.Stat(filepath.Join(app.dir, "index.html")); err != nil {
					t.Fatalf("%s not built: run make deps (npm ci && npm run build in spa/testdata/nextauth)", app.dir)
				}
				o.FS = os.DirFS(app.dir)
			}
			site := newHandler(t, o)
			fake := &fakeNextAuth{}
			mux := http.NewServeMux()
			mux.Handle("/api/", fake.handler())
			mux.Handle("/", site)
			srv := httptest.NewServer(mux)
			defer srv.Close()

			cases := []struct {
				session, path string
				want          []string
			}{
				{app.signedOut, "/", []string{`id="status" role="status">unauthenticated<`, `id="signin"`, ">Sign in<"}},
				{signedIn, "/", []string{`id="status" role="status">authenticated<`, `id="welcome"`, "Welcome, Ada", `id="protected-link"`, `id="signout"`}},
				{signedIn, "/protected", []string{`id="status" role="status">authenticated<`, `id="protected-content"`, "You are signed in as ada@example.com"}},
			}
			if app.dir == "" {
				// The embedded SPA's dashboard on the protected page, where
				// sign-in lands: the session ticking down, the
				// access token's times from the demo API's echo or, when the
				// server sends them, from the session JSON, and the sessions.
				withTimes := `{"user":{"name":"Ada","email":"ada@example.com"},"expires":"2030-01-01T00:00:00.000Z",` +
					`"accessTokenExpires":"2030-01-01T00:00:00.000Z","refreshedAt":"2029-12-31T23:00:00.000Z"}`
				cases = append(cases, []struct {
					session, path string
					want          []string
				}{
					{signedIn, "/protected", []string{`id="session-countdown" class="countdown">`, " days ", `re:id="token-countdown" class="countdown">(09:|10:00)`,
						"Issued ", "at sign-in or the last refresh", ">✓ HTTP&nbsp;200 in ", "Firefox on Windows", "This browser",
						// This browser first, though the server lists it second.
						`re:<ul id="session-list" class="sessions"><li class="current" data-session="aaaa">`,
						`aria-hidden="true">A</span>`}},
					{withTimes, "/protected", []string{`id="token-countdown" class="countdown">`, "Last refreshed "}},
				}...)
			}
			for _, c := range cases {
				fake.mu.Lock()
				fake.session = c.session
				fake.mu.Unlock()
				dom := dumpDOM(t, chromium, srv.URL+c.path)
				for _, w := range c.want {
					if re, ok := strings.CutPrefix(w, "re:"); ok {
						// The demo token's exp is a whole second: the page may
						// render 10:00 as well as 09:59.
						if !regexp.MustCompile(re).MatchString(dom) {
							t.Errorf("%s with session %s: no match for %q in\n%s", c.path, c.session, re, dom)
						}
						continue
					}
					if !strings.Contains(dom, w) {
						t.Errorf("%s with session %s: missing %q in\n%s", c.path, c.session, w, dom)
					}
				}
			}
		})
	}
}

func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func dumpDOM(t *testing.T, chromium, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-dev-shm-usage", "--disable-background-networking", "--disable-quic",
		"--no-first-run", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=10000", "--dump-dom", url)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v", url, err)
	}
	// React renders text children as separate text nodes; the DOM dump joins
	// them, but comments may sit between them in some versions.
	return strings.ReplaceAll(string(out), "<!-- -->", "")
}
