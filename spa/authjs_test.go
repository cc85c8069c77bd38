package spa

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
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
	mux.HandleFunc("/api/proxy/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.proxy, f.proxyURL = r.Header.Clone(), r.URL.RequestURI()
		f.mu.Unlock()
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
// server and checks the requests it makes match next-auth/react v4's.
func TestAuthJSWire(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: install nodejs: apt-get install -y nodejs npm (or run make deps)")
	}
	fake := &fakeNextAuth{session: "{}"}
	srv := httptest.NewServer(fake.handler())
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "testdata/authjs/wire.mjs", srv.URL).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("node wire.mjs: %v\n%s", err, out)
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
}
