package spa

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeNextAuth is the server half of the NextAuth v4 contract, recording what
// the client sent.
type fakeNextAuth struct {
	mu       sync.Mutex
	session  string // body of GET /session
	sessions int    // GET /session count
	signin   *http.Request
	signinF  url.Values
	signout  url.Values
	proxy    http.Header
	proxyURL string
	ended    []string // ids DELETEd through the sessions API
}

func (f *fakeNextAuth) handler() http.Handler {
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, v string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(v))
	}
	mux.HandleFunc("GET /api/auth/providers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, `{"cognito":{"id":"cognito","name":"Cognito","type":"oauth","signinUrl":"x","callbackUrl":"y"}}`)
	})
	mux.HandleFunc("GET /api/auth/csrf", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, `{"csrfToken":"tok"}`)
	})
	mux.HandleFunc("GET /auth/csrf", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, `{"csrfToken":"tok-custom"}`)
	})
	mux.HandleFunc("GET /api/auth/session", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.sessions++
		writeJSON(w, f.session)
	})
	mux.HandleFunc("POST /api/auth/signin/{id}", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		f.signin, f.signinF = r, r.PostForm
		f.mu.Unlock()
		writeJSON(w, `{"url":"https://idp.example/authorize?client_id=x"}`)
	})
	mux.HandleFunc("POST /api/auth/signout", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		f.signout = r.PostForm
		f.session = "{}"
		f.mu.Unlock()
		writeJSON(w, `{"url":`+strconvQuote(r.PostForm.Get("callbackUrl"))+`}`)
	})
	// authbff's sessions API: X-CSRF: 1 or 401, like the real one.
	csrfHeader := func(next http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-CSRF") != "1" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"error":"csrf_header_missing","message":"send the header X-CSRF: 1"}`))
				return
			}
			next(w, r)
		}
	}
	mux.HandleFunc("GET /api/auth/sessions", csrfHeader(func(w http.ResponseWriter, r *http.Request) {
		// The server's order: most recently used first, this browser not.
		writeJSON(w, `{"sessions":[{"id":"bbbb","created":"2030-01-01T00:00:00.000Z","lastSeen":"2030-01-02T00:00:00.000Z","expires":"2030-01-31T00:00:00.000Z","current":false,`+
			`"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"},`+
			`{"id":"aaaa","created":"2030-01-01T00:00:00.000Z","lastSeen":"2030-01-01T00:00:00.000Z","expires":"2030-01-31T00:00:00.000Z","userAgent":"HeadlessChrome/140.0","current":true}]}`)
	}))
	mux.HandleFunc("DELETE /api/auth/sessions/{id}", csrfHeader(func(w http.ResponseWriter, r *http.Request) {
		if id := r.PathValue("id"); id != "bbbb" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"not_found","message":"you have no session with that id"}`))
			return
		}
		f.mu.Lock()
		f.ended = append(f.ended, r.PathValue("id"))
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("/api/proxy/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.proxy, f.proxyURL = r.Header.Clone(), r.URL.RequestURI()
		f.mu.Unlock()
		if r.URL.Path == "/api/proxy/demo/me" {
			// Like the dev IdP's demo API: the access token's claims echoed,
			// with a token issued now for ten minutes.
			now := time.Now().Unix()
			writeJSON(w, fmt.Sprintf(`{"message":"Hello from the demo API","claims":{"username":"ada","iat":%d,"exp":%d}}`, now, now+600))
			return
		}
		writeJSON(w, `{}`)
	})
	set := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			f.session = body
			f.mu.Unlock()
		}
	}
	mux.HandleFunc("POST /test/login", set(`{"user":{"name":"Ada","email":"ada@example.com"},"expires":"2030-01-01T00:00:00.000Z"}`))
	mux.HandleFunc("POST /test/logout-null", set(`null`))
	mux.HandleFunc("GET /test/count", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		b, _ := json.Marshal(map[string]int{"session": f.sessions})
		writeJSON(w, string(b))
	})
	return mux
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestAuthJSWire runs the embedded auth.js in Node against a fake NextAuth
// server and checks the requests it makes match next-auth/react v4's. Node
// must load it as an ES module whatever the folders above it say: Node 18
// (Debian 12's nodejs) and any Node under a package.json of "type":
// "commonjs" read a .js file as CommonJS and fail on `export`.
func TestAuthJSWire(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Node (skipped by -short)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: install nodejs: apt-get install -y nodejs npm (or run make deps)")
	}
	parents := []struct {
		name, packageJSON string // package.json in a folder above the files; "" = none
	}{
		{"no package.json", ""},
		{"commonjs package.json above", `{"name":"outer","type":"commonjs"}`},
		{"typeless package.json above", `{"name":"outer"}`},
		{"module package.json above", `{"name":"outer","type":"module"}`},
	}
	for _, p := range parents {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if p.packageJSON != "" {
				writeFile(t, filepath.Join(dir, "package.json"), []byte(p.packageJSON))
			}
			runWire(t, node, filepath.Join(dir, "clone", "spa"))
		})
	}
}

// writeFile writes a file, making its folder.
func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runWire copies wire.mjs and the embedded auth.js (as auth.mjs, so no Node
// version and no package.json can make it CommonJS) into dir, runs them
// against a fresh fake server and checks what the server saw.
func runWire(t *testing.T, node, dir string) {
	t.Helper()
	wire, err := os.ReadFile(filepath.Join("testdata", "authjs", "wire.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := fs.ReadFile(Embedded(), "assets/auth.js")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "wire.mjs"), wire)
	writeFile(t, filepath.Join(dir, "auth.mjs"), auth)

	fake := &fakeNextAuth{session: "{}"}
	srv := httptest.NewServer(fake.handler())
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "wire.mjs"), srv.URL, filepath.Join(dir, "auth.mjs"))
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Node 18 warns on stderr that fetch is experimental; only stdout counts.
	if err := cmd.Run(); err != nil || stdout.String() != "ok\n" {
		t.Fatalf("node wire.mjs: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}

	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.signin == nil {
		t.Fatal("no sign-in POST")
	}
	if got := fake.signin.URL.RawQuery; got != "prompt=login" {
		t.Errorf("sign-in query = %q, want the authorization params %q", got, "prompt=login")
	}
	if ct := fake.signin.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		t.Errorf("sign-in Content-Type = %q", ct)
	}
	wantForm := url.Values{"csrfToken": {"tok"}, "callbackUrl": {srv.URL + "/protected"}, "json": {"true"}}
	for k, v := range wantForm {
		if fake.signinF.Get(k) != v[0] {
			t.Errorf("sign-in form %s = %q, want %q", k, fake.signinF.Get(k), v[0])
		}
	}
	wantOut := url.Values{"csrfToken": {"tok"}, "callbackUrl": {srv.URL + "/#bye"}, "json": {"true"}}
	if fake.signout.Encode() != wantOut.Encode() {
		t.Errorf("sign-out form = %q, want %q", fake.signout.Encode(), wantOut.Encode())
	}
	if fake.proxyURL != "/api/proxy/orders/v1/items?x=1" || fake.proxy.Get("X-CSRF") != "1" || fake.proxy.Get("X-Trace") != "t1" {
		t.Errorf("fetchApi sent %s with headers %v", fake.proxyURL, fake.proxy)
	}
	if len(fake.ended) != 1 || fake.ended[0] != "bbbb" {
		t.Errorf("endSession ended %q, want [bbbb]", fake.ended)
	}
}
