package spa

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// accountFS is an SPA_DIR build with pages at several depths.
func accountFS() fstest.MapFS {
	return fstest.MapFS{
		"index.html":             {Data: []byte("<!doctype html><title>home</title>")},
		"account.html":           {Data: []byte("<!doctype html><title>account</title>")},
		"protected.html":         {Data: []byte("<!doctype html><title>Protected page</title>")},
		"admin/index.html":       {Data: []byte("<!doctype html><title>admin</title>")},
		"both.html":              {Data: []byte("<!doctype html><title>both flat</title>")},
		"both/index.html":        {Data: []byte("<!doctype html><title>both dir</title>")},
		"assets/app-3f9a1c2b.js": {Data: []byte("console.log(1)")},
	}
}

// dirFS writes m to a temporary directory and returns os.DirFS of it, the
// FS SPA_DIR gives.
func dirFS(t *testing.T, m fstest.MapFS) fs.FS {
	t.Helper()
	dir := t.TempDir()
	for name, f := range m {
		writeFile(t, filepath.Join(dir, filepath.FromSlash(name)), f.Data)
	}
	return os.DirFS(dir)
}

// spellings are the ways issue 10 reached a page past a guard matching the
// raw path, written as request targets (what a client puts on the wire):
// those of any path, and those of the file behind the route.
func spellings(route string) []string {
	tail := strings.TrimPrefix(route, "/")
	var file []string
	switch route {
	case "/":
		file = []string{"/index.html", "/index", "//index.html", "/x/../index.html"}
	case "/admin": // admin/index.html
		file = []string{"/admin/index.html", "/admin/index", "//admin/./index.html", "/admin%2findex.html"}
	default: // <tail>.html
		file = []string{"/" + tail + ".html", "//" + tail + ".html", "/x/../" + tail + ".html", "/" + tail + ".html/"}
	}
	return append(file,
		"/"+tail,
		"//"+tail,
		"///"+tail,
		"/./"+tail,
		"/%2e/"+tail,
		"/x/../"+tail,
		"/x/%2e%2e/"+tail,
		"/"+tail+"/",
		"/"+tail+"//",
		"/"+tail+"/.",
		"/"+tail+"%2f",
		"/"+tail+"%2F",
		"/%2f"+tail,
		"/"+tail+"?next=%2F",
	)
}

// TestRouteSpellings: every spelling of a page resolves to the page's one
// route, ServeHTTP answers it with a 301 there (or the page, when the path is
// the route), and following the 301 serves the page.
func TestRouteSpellings(t *testing.T) {
	apps := []struct {
		name  string
		fsys  fs.FS
		pages map[string]string // route -> title
	}{
		{"embedded", Embedded(), map[string]string{"/protected": "<title>Protected page", "/": "<title>authbff<"}},
		{"mapfs", accountFS(), map[string]string{"/account": "<title>account<", "/protected": "<title>Protected page<", "/admin": "<title>admin<"}},
		{"dirfs", dirFS(t, accountFS()), map[string]string{"/account": "<title>account<", "/protected": "<title>Protected page<", "/admin": "<title>admin<"}},
	}
	for _, app := range apps {
		h := newHandler(t, Options{FS: app.fsys})
		for route, title := range app.pages {
			for _, target := range spellings(route) {
				t.Run(app.name+" "+target, func(t *testing.T) {
					req := httptest.NewRequest(http.MethodGet, target, nil)
					got, ok := h.Resolve(req)
					if !ok || got != route {
						t.Fatalf("Resolve(%q) = %q, %v; want %q, true", req.URL.Path, got, ok, route)
					}
					res := do(t, h, http.MethodGet, target, nil)
					b := body(t, res)
					if req.URL.Path == route {
						if res.StatusCode != http.StatusOK || !strings.Contains(b, title) {
							t.Fatalf("GET %s = %d %q, want 200 with %s", target, res.StatusCode, b, title)
						}
						return
					}
					if res.StatusCode != http.StatusMovedPermanently || strings.Contains(b, title) {
						t.Fatalf("GET %s = %d %q, want 301 without the page", target, res.StatusCode, b)
					}
					loc := res.Header.Get("Location")
					if wantQuery := req.URL.RawQuery; loc != route+map[bool]string{true: "?" + wantQuery}[wantQuery != ""] {
						t.Errorf("Location = %q, want %q (query %q kept)", loc, route, wantQuery)
					}
					assertSecurityHeaders(t, res)
					next := do(t, h, http.MethodGet, loc, nil)
					if nb := body(t, next); next.StatusCode != http.StatusOK || !strings.Contains(nb, title) {
						t.Errorf("GET %s after the 301 = %d %q, want the page", loc, next.StatusCode, nb)
					}
				})
			}
		}
	}
}

// TestRoutes pins the route of each kind of path and that Route is idempotent.
func TestRoutes(t *testing.T) {
	h := newHandler(t, Options{FS: accountFS()})
	tests := []struct {
		path, want string
		ok         bool
	}{
		{"/", "/", true},
		{"", "/", true},
		{"/index.html", "/", true},
		{"/index", "/", true},
		{"/account.html", "/account", true},
		{"/admin/", "/admin", true},
		{"/admin/index.html", "/admin", true},
		{"/both", "/both", true},
		{"/both/", "/both", true},
		{"/both.html", "/both", true},
		{"/both/index.html", "/both/index", true}, // "/both" serves both.html
		{"/assets/app-3f9a1c2b.js", "/assets/app-3f9a1c2b.js", true},
		{"//assets/./app-3f9a1c2b.js/", "/assets/app-3f9a1c2b.js", true},
		{"/settings/profile/", "/settings/profile", true}, // client route
		{"/account/orders/7", "/account/orders/7", true},  // client route, not the account page
		{"/ACCOUNT", "/ACCOUNT", true},                    // client route: names are case-sensitive
		{"/missing.js", "", false},
		{"/.env", "", false},
		{"/account/../.git/config", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := h.Route(tt.path)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Route(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
			}
			if ok {
				if again, _ := h.Route(got); again != got {
					t.Errorf("Route(%q) = %q, not idempotent", got, again)
				}
			}
		})
	}
	t.Run("methods", func(t *testing.T) {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions} {
			if r, ok := h.Resolve(httptest.NewRequest(m, "/account", nil)); ok {
				t.Errorf("Resolve(%s /account) = %q, true; ServeHTTP serves nothing but 405", m, r)
			}
		}
		if r, ok := h.Resolve(httptest.NewRequest(http.MethodHead, "/account/", nil)); !ok || r != "/account" {
			t.Errorf("Resolve(HEAD /account/) = %q, %v", r, ok)
		}
	})
}

// TestRedirectStaysOnOrigin: the 301's Location is always a path on this
// origin, never "//host" or "/\host" a browser would read as another host.
func TestRedirectStaysOnOrigin(t *testing.T) {
	h := newHandler(t, Options{FS: accountFS()})
	for _, target := range []string{"//evil/", "///evil.example/x/", "//%5Cevil/", "/%5C%5Cevil/", "/%5C/evil/", "/%09/evil/", "/./%2F%2Fevil/"} {
		t.Run(target, func(t *testing.T) {
			res := do(t, h, http.MethodGet, target, nil)
			loc := res.Header.Get("Location")
			if res.StatusCode != http.StatusMovedPermanently {
				t.Fatalf("status = %d, want 301", res.StatusCode)
			}
			if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.ContainsAny(loc, "\\\t\r\n") {
				t.Errorf("Location = %q leaves the origin in a browser", loc)
			}
		})
	}
}

// TestGuardSeesEveryServedPage is issue 10 end to end: a guard that matches
// PROTECTED_PATHS against r.URL.Path, or against Resolve's route, in front of
// the handler (as bff.BFF.guard has it), with a client following every redirect. No
// spelling gets a protected page out without passing the guard.
func TestGuardSeesEveryServedPage(t *testing.T) {
	patterns := []string{"/protected*", "/account", "/admin"}
	protected := func(p string) bool {
		for _, pat := range patterns {
			if prefix, ok := strings.CutSuffix(pat, "*"); ok && strings.HasPrefix(p, prefix) || p == pat {
				return true
			}
		}
		return false
	}
	secrets := []string{"<title>Protected page", "<title>account<", "<title>admin<"}
	for _, fsys := range []struct {
		name string
		fsys fs.FS
	}{{"embedded", Embedded()}, {"mapfs", accountFS()}, {"dirfs", dirFS(t, accountFS())}} {
		h := newHandler(t, Options{FS: fsys.fsys})
		guards := map[string]func(*http.Request) string{
			"raw path": func(r *http.Request) string { return r.URL.Path },
			"resolved": func(r *http.Request) string {
				if route, ok := h.Resolve(r); ok {
					return route
				}
				return r.URL.Path
			},
		}
		for gname, key := range guards {
			site := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if protected(key(r)) {
					http.Redirect(w, r, "/", http.StatusFound)
					return
				}
				h.ServeHTTP(w, r)
			})
			for _, route := range []string{"/protected", "/account", "/admin"} {
				for _, target := range spellings(route) {
					t.Run(fsys.name+" "+gname+" "+target, func(t *testing.T) {
						for hop := 0; ; hop++ {
							res := do(t, site, http.MethodGet, target, nil)
							b := body(t, res)
							for _, s := range secrets {
								if strings.Contains(b, s) {
									t.Fatalf("GET %s served %q without a session", target, s)
								}
							}
							if res.StatusCode == http.StatusFound {
								return // the guard sent it home
							}
							if res.StatusCode != http.StatusMovedPermanently || hop > 3 {
								return // 200 of another page (a client route) or 404
							}
							target = res.Header.Get("Location")
						}
					})
				}
			}
		}
	}
}
