package spa

import (
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"testing"
)

var (
	scriptTagRe = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	assetRefRe  = regexp.MustCompile(`(?:src|href)="(/[^"]*)"`)
	importRe    = regexp.MustCompile(`(?m)^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'`)
)

func readEmbedded(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(Embedded(), name)
	if err != nil {
		t.Fatalf("embedded %s: %v", name, err)
	}
	return string(b)
}

// TestEmbeddedPagesPassCSP checks what the browser would block under
// ContentSecurityPolicy: inline scripts, inline styles, inline handlers, and
// references that would 404.
func TestEmbeddedPagesPassCSP(t *testing.T) {
	h := newHandler(t, Options{})
	for _, page := range []string{"index.html", "protected.html"} {
		t.Run(page, func(t *testing.T) {
			doc := readEmbedded(t, page)
			for _, want := range []string{`<html lang="en">`, `name="viewport"`, `id="status"`, `<meta charset="utf-8">`} {
				if !strings.Contains(doc, want) {
					t.Errorf("missing %s", want)
				}
			}
			scripts := scriptTagRe.FindAllStringSubmatch(doc, -1)
			if len(scripts) == 0 {
				t.Fatal("no script tag")
			}
			for _, s := range scripts {
				if !strings.Contains(s[1], `type="module"`) || !strings.Contains(s[1], `src="/assets/`) || strings.TrimSpace(s[2]) != "" {
					t.Errorf("script is inline or not a module: %q", s[0])
				}
			}
			if regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=|javascript:`).MatchString(doc) {
				t.Error("inline style, inline handler or javascript: URL would be blocked by the CSP")
			}
			for _, ref := range assetRefRe.FindAllStringSubmatch(doc, -1) {
				if ref[1] == "/" {
					continue
				}
				res := do(t, h, http.MethodGet, ref[1], nil)
				if res.StatusCode != http.StatusOK || strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
					t.Errorf("%s: status %d, type %q", ref[1], res.StatusCode, res.Header.Get("Content-Type"))
				}
			}
		})
	}
}

// TestEmbeddedNoOutsideOrigin: the embedded SPA loads nothing from another
// origin (ContentSecurityPolicy would block it, and it fails offline).
func TestEmbeddedNoOutsideOrigin(t *testing.T) {
	err := fs.WalkDir(Embedded(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src := readEmbedded(t, name)
		if name == "assets/favicon.svg" {
			src = strings.ReplaceAll(src, `xmlns="http://www.w3.org/2000/svg"`, "")
		}
		if m := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`).FindString(src); m != "" {
			t.Errorf("%s refers to %s", name, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEmbeddedModulesResolve follows every relative import of every embedded
// module, so a renamed file cannot break the page silently.
func TestEmbeddedModulesResolve(t *testing.T) {
	mods, err := fs.Glob(Embedded(), "assets/*.js")
	if err != nil || len(mods) == 0 {
		t.Fatalf("no modules: %v", err)
	}
	for _, mod := range mods {
		src := readEmbedded(t, mod)
		if strings.Contains(src, "innerHTML") || strings.Contains(src, "eval(") || strings.Contains(src, "new Function") {
			t.Errorf("%s uses innerHTML/eval, unsafe and blocked by the CSP", mod)
		}
		for _, m := range importRe.FindAllStringSubmatch(src, -1) {
			if !strings.HasPrefix(m[1], "./") {
				t.Errorf("%s imports %q: only relative imports work without a bundler", mod, m[1])
				continue
			}
			if _, err := fs.Stat(Embedded(), path.Join(path.Dir(mod), m[1])); err != nil {
				t.Errorf("%s imports %q: %v", mod, m[1], err)
			}
		}
	}
}

// TestEmbeddedTestHooks pins the ids and calls the browser tests and the
// next-auth fixture rely on.
func TestEmbeddedTestHooks(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"assets/app.js", []string{
			"id: 'signin'", "id: 'signout'", "id: 'welcome'", "id: 'protected-link'",
			"signIn('cognito', { callbackUrl: `${window.location.origin}/protected` })",
			"signOut({ callbackUrl: window.location.origin })", "Welcome, ", "Loading…",
		}},
		{"assets/protected.js", []string{
			"id: 'protected-content'", "You are signed in as ", "window.location.replace('/')", "id: 'signout'",
		}},
		{"assets/dashboard.js", []string{
			"id: 'call-demo'", "'demo-result'", "'session-countdown'", "'token-countdown'", "'session-list'",
			"fetchApi('demo', 'me')", "This browser",
		}},
		{"assets/auth.js", []string{
			"export let basePath = '/api/auth'", "export function configure", "export async function getSession",
			"export async function getCsrfToken", "export async function getProviders", "export async function signIn",
			"export async function signOut", "export function onSession", "export function startSessionSync",
			"export function fetchApi", "export async function getSessions", "export async function endSession",
			"export function reloadSession", "'nextauth.message'", "'next-auth'", "json: true", "'X-CSRF'", "/api/proxy/",
		}},
		{"protected.html", []string{`id="home-link"`, `href="/"`, "Protected page"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			src := readEmbedded(t, tt.file)
			for _, w := range tt.want {
				if !strings.Contains(src, w) {
					t.Errorf("missing %q", w)
				}
			}
		})
	}
}
