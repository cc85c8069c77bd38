package spa

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// distFS looks like a Vite build output.
func distFS() fstest.MapFS {
	return fstest.MapFS{
		"index.html":                   {Data: []byte("<!doctype html><title>home</title>")},
		"protected.html":               {Data: []byte("<!doctype html><title>protected</title>")},
		"docs/index.html":              {Data: []byte("<!doctype html><title>docs</title>")},
		"assets/index-3f9a1c2b.js":     {Data: []byte("console.log('hashed')")},
		"assets/chunk-BmXyzA1c.mjs":    {Data: []byte("export {}")},
		"assets/app.3f9a1c2b.css":      {Data: []byte("body{}")},
		"assets/index-3f9a1c2b.js.map": {Data: []byte(`{"version":3}`)},
		"assets/logo.svg":              {Data: []byte("<svg xmlns='http://www.w3.org/2000/svg'/>")},
		"assets/font-5e6f7a8b.woff2":   {Data: []byte("wOF2")},
		"favicon.ico":                  {Data: []byte{0, 0, 1, 0}},
		"logo.png":                     {Data: []byte("\x89PNG\r\n\x1a\n")},
		"manifest.json":                {Data: []byte(`{"name":"x"}`)},
		"robots.txt":                   {Data: []byte("User-agent: *")},
		".env":                         {Data: []byte("SECRET=1")},
		".git/config":                  {Data: []byte("[core]")},
	}
}

func newHandler(t *testing.T, o Options) *Handler {
	t.Helper()
	h, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

func do(t *testing.T, h http.Handler, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return string(b)
}

func assertSecurityHeaders(t *testing.T, res *http.Response) {
	t.Helper()
	assertHeaders(t, res, BuildContentSecurityPolicy)
}

func assertHeaders(t *testing.T, res *http.Response, csp string) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": csp,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "strict-origin-when-cross-origin",
		"X-Frame-Options":         "DENY",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestServeFiles(t *testing.T) {
	h := newHandler(t, Options{FS: distFS()})
	tests := []struct {
		path, wantType, wantCache, wantBody string
	}{
		{"/", "text/html; charset=utf-8", "no-cache", "<title>home</title>"},
		{"/protected", "text/html; charset=utf-8", "no-cache", "<title>protected</title>"},
		{"/docs", "text/html; charset=utf-8", "no-cache", "<title>docs</title>"},
		{"/assets/index-3f9a1c2b.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "hashed"},
		{"/assets/chunk-BmXyzA1c.mjs", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "export"},
		{"/assets/app.3f9a1c2b.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable", "body{}"},
		{"/assets/index-3f9a1c2b.js.map", "application/json", "no-cache", "version"},
		{"/assets/logo.svg", "image/svg+xml", "no-cache", "<svg"},
		{"/assets/font-5e6f7a8b.woff2", "font/woff2", "public, max-age=31536000, immutable", "wOF2"},
		{"/favicon.ico", "image/x-icon", "no-cache", "\x00\x00\x01\x00"},
		{"/logo.png", "image/png", "no-cache", "PNG"},
		{"/manifest.json", "application/json", "no-cache", `"name"`},
		{"/robots.txt", "text/plain; charset=utf-8", "no-cache", "User-agent"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := do(t, h, http.MethodGet, tt.path, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", res.StatusCode)
			}
			if got := res.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.wantCache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.wantCache)
			}
			etag := res.Header.Get("ETag")
			if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
				t.Errorf("ETag = %q, want a strong quoted tag", etag)
			}
			if b := body(t, res); !strings.Contains(b, tt.wantBody) {
				t.Errorf("body = %q, want it to contain %q", b, tt.wantBody)
			}
			assertSecurityHeaders(t, res)
		})
	}
}

func TestHistoryFallbackAndNotFound(t *testing.T) {
	h := newHandler(t, Options{FS: distFS()})
	tests := []struct {
		name, path   string
		wantStatus   int
		wantBody     string
		wantLocation string // of a 301
	}{
		{"client route", "/protected/x", 200, "<title>home</title>", ""},
		{"deep client route", "/settings/profile/42", 200, "<title>home</title>", ""},
		{"html sibling wins", "/protected", 200, "<title>protected</title>", ""},
		{"trailing slash", "/protected/", 301, "", "/protected"},
		{"directory index", "/docs", 200, "<title>docs</title>", ""},
		{"directory is not listed", "/assets/", 301, "", "/assets"},
		{"directory is a client route", "/assets", 200, "<title>home</title>", ""},
		{"missing asset", "/assets/missing-3f9a1c2b.js", 404, "404 page not found", ""},
		{"missing file", "/nope.png", 404, "404 page not found", ""},
		{"hidden file", "/.env", 404, "404 page not found", ""},
		{"hidden directory", "/.git/config", 404, "404 page not found", ""},
		{"traversal", "/../../../etc/passwd", 301, "", "/etc/passwd"},
		{"encoded traversal", "/..%2f..%2fetc%2fpasswd", 301, "", "/etc/passwd"},
		{"encoded traversal to file", "/assets/..%2f.env", 404, "404 page not found", ""},
		{"query is kept", "/protected.html?a=1&b=%2F", 301, "", "/protected?a=1&b=%2F"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, h, http.MethodGet, tt.path, nil)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if got := res.Header.Get("Location"); got != tt.wantLocation {
				t.Errorf("Location = %q, want %q", got, tt.wantLocation)
			}
			b := body(t, res)
			if !strings.Contains(b, tt.wantBody) {
				t.Errorf("body = %q, want it to contain %q", b, tt.wantBody)
			}
			if strings.Contains(b, "SECRET") || strings.Contains(b, "[core]") {
				t.Errorf("hidden file leaked: %q", b)
			}
			if tt.wantStatus == 301 && strings.Contains(b, "<title>") {
				t.Errorf("301 carries a page: %q", b)
			}
			if tt.wantStatus == 404 {
				if ct := res.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
					t.Errorf("404 Content-Type = %q, want text/plain", ct)
				}
			} else if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("fallback Cache-Control = %q, want no-cache", cc)
			}
			assertSecurityHeaders(t, res)
		})
	}
}

func TestMethods(t *testing.T) {
	h := newHandler(t, Options{FS: distFS()})
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		t.Run(m, func(t *testing.T) {
			res := do(t, h, m, "/", nil)
			if res.StatusCode != http.StatusMethodNotAllowed {
				t.Fatalf("status = %d, want 405", res.StatusCode)
			}
			if got := res.Header.Get("Allow"); got != "GET, HEAD" {
				t.Errorf("Allow = %q, want %q", got, "GET, HEAD")
			}
			if strings.Contains(body(t, res), "<title>") {
				t.Error("405 response carries the page")
			}
			assertSecurityHeaders(t, res)
		})
	}
	t.Run("HEAD", func(t *testing.T) {
		get := do(t, h, http.MethodGet, "/protected/x", nil)
		head := do(t, h, http.MethodHead, "/protected/x", nil)
		if head.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, want 200", head.StatusCode)
		}
		if b := body(t, head); b != "" {
			t.Errorf("HEAD body = %q, want empty", b)
		}
		if head.Header.Get("Content-Length") != get.Header.Get("Content-Length") || head.Header.Get("ETag") != get.Header.Get("ETag") {
			t.Errorf("HEAD headers differ from GET: %v vs %v", head.Header, get.Header)
		}
		assertSecurityHeaders(t, head)
	})
}

func TestConditionalRequests(t *testing.T) {
	h := newHandler(t, Options{FS: distFS()})
	for _, path := range []string{"/", "/protected/x", "/assets/logo.svg", "/assets/index-3f9a1c2b.js"} {
		t.Run(path, func(t *testing.T) {
			first := do(t, h, http.MethodGet, path, nil)
			etag := first.Header.Get("ETag")
			if etag == "" || strings.HasPrefix(etag, "W/") {
				t.Fatalf("ETag = %q, want a strong tag", etag)
			}
			res := do(t, h, http.MethodGet, path, http.Header{"If-None-Match": {etag}})
			if res.StatusCode != http.StatusNotModified {
				t.Fatalf("status = %d, want 304", res.StatusCode)
			}
			if b := body(t, res); b != "" {
				t.Errorf("304 body = %q", b)
			}
			assertSecurityHeaders(t, res)
			res = do(t, h, http.MethodGet, path, http.Header{"If-None-Match": {`"stale"`}})
			if res.StatusCode != http.StatusOK {
				t.Errorf("stale tag: status = %d, want 200", res.StatusCode)
			}
		})
	}
	t.Run("fallback shares the index tag", func(t *testing.T) {
		a := do(t, h, http.MethodGet, "/", nil).Header.Get("ETag")
		b := do(t, h, http.MethodGet, "/any/route", nil).Header.Get("ETag")
		if a != b {
			t.Errorf("ETag / = %q, /any/route = %q", a, b)
		}
	})
	t.Run("tag follows content", func(t *testing.T) {
		other := distFS()
		other["index.html"] = &fstest.MapFile{Data: []byte("<!doctype html><title>v2</title>")}
		a := do(t, h, http.MethodGet, "/", nil).Header.Get("ETag")
		b := do(t, newHandler(t, Options{FS: other}), http.MethodGet, "/", nil).Header.Get("ETag")
		if a == b {
			t.Errorf("different content, same ETag %q", a)
		}
		c := do(t, h, http.MethodGet, "/protected", nil).Header.Get("ETag")
		if a == c {
			t.Errorf("index.html and protected.html share ETag %q", a)
		}
	})
}

func TestDirFS(t *testing.T) {
	dir := t.TempDir()
	for name, f := range distFS() {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(newHandler(t, Options{FS: os.DirFS(dir)}))
	defer srv.Close()

	tests := []struct {
		path       string
		wantStatus int
		wantCache  string
		wantBody   string
	}{
		{"/", 200, "no-cache", "<title>home</title>"},
		{"/protected", 200, "no-cache", "<title>protected</title>"},
		{"/protected/x", 200, "no-cache", "<title>home</title>"},
		{"/assets/index-3f9a1c2b.js", 200, "public, max-age=31536000, immutable", "hashed"},
		{"/.env", 404, "", "404"},
		{"/missing.css", 404, "", "404"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.wantCache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.wantCache)
			}
			if b := body(t, res); !strings.Contains(b, tt.wantBody) {
				t.Errorf("body = %q, want %q", b, tt.wantBody)
			}
			assertSecurityHeaders(t, res)
		})
	}
}

func TestNewErrors(t *testing.T) {
	t.Run("no index.html", func(t *testing.T) {
		_, err := New(Options{FS: fstest.MapFS{"app.js": {Data: []byte("x")}}})
		if err == nil || !strings.Contains(err.Error(), "index.html") {
			t.Fatalf("err = %v, want one naming index.html", err)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		_, err := New(Options{FS: os.DirFS(filepath.Join(t.TempDir(), "nope"))})
		if err == nil {
			t.Fatal("New succeeded on a missing directory")
		}
	})
	t.Run("nil FS serves the embedded SPA", func(t *testing.T) {
		res := do(t, newHandler(t, Options{}), http.MethodGet, "/", nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(body(t, res), `src="/assets/app.js"`) {
			t.Fatalf("status = %d, want the embedded index.html", res.StatusCode)
		}
	})
}

func TestFingerprinted(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"index-3f9a1c2b.js", true},
		{"assets/index-3f9a1c2b.js", true},
		{"app.3f9a1c2b.css", true},
		{"index-BmXyzA1c.js", true},
		{"index-BmXyzAbc.js", true},
		{"index-D-Vx_3Ab.js", true},
		{"vendor-react-3f9a1c2b.js", true},
		{"main.0123456789abcdef0123.js", true},
		{"app-5FQ3XKHM.js", true},
		{"index-3f9a1c2b.js.map", false},
		{"3f9a1c2b.js", false},
		{"index.js", false},
		{"logo.svg", false},
		{"jquery.min.js", false},
		{"logo-standard.svg", false},
		{"my-component-name.js", false},
		{"component-Settings.js", false},
		{"a-header-1.js", false},
		{"button-v2.js", false},
		{"index-3f9a1c.js", false},
		{"README", false},
		{"index-3f9a1c2b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fingerprinted(tt.name); got != tt.want {
				t.Errorf("Fingerprinted(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

// TestContentSecurityPolicy: the embedded SPA gets the policy without any
// outside origin, a build the one that also allows https pictures, and an
// explicit policy wins; on pages, files, redirects and errors alike.
func TestContentSecurityPolicy(t *testing.T) {
	custom := "default-src 'self'; img-src 'self' https://cdn.example"
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"embedded", Options{}, ContentSecurityPolicy},
		{"build", Options{FS: distFS()}, BuildContentSecurityPolicy},
		{"explicit", Options{FS: distFS(), ContentSecurityPolicy: custom}, custom},
		{"explicit embedded", Options{ContentSecurityPolicy: custom}, custom},
	}
	if strings.Contains(ContentSecurityPolicy, "https:") || strings.Contains(ContentSecurityPolicy, "http:") {
		t.Errorf("ContentSecurityPolicy allows outside origins: %s", ContentSecurityPolicy)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, tt.o)
			for _, p := range []string{"/", "/assets/style.css", "/missing.png", "/x/../"} {
				res := do(t, h, http.MethodGet, p, nil)
				assertHeaders(t, res, tt.want)
			}
			assertHeaders(t, do(t, h, http.MethodPost, "/", nil), tt.want)
		})
	}
}
