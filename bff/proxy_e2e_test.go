package bff_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/testkit/fakeop"
)

// bffEnv is the dev-IdP configuration the BFF tests start from.
func bffEnv(t *testing.T, kv ...string) map[string]string {
	t.Helper()
	env := map[string]string{"NEXTAUTH_URL": "auto", "SESSION_STORE": "memory", "AUTHBFF_DATA_DIR": t.TempDir()}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

// bffCall sends an API call as fetchApi does (X-CSRF: 1) unless hdr
// overrides it; hdr is name, value pairs.
func (b *browser) bffCall(method, u, body string, hdr ...string) response {
	b.T.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		b.T.Fatal(err)
	}
	req.Header.Set("X-CSRF", "1")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	return b.Do(req)
}

// wantJSONError checks a {"error","message"} answer.
func wantJSONError(t *testing.T, r response, status int, code string) {
	t.Helper()
	var v struct{ Error, Message string }
	if r.StatusCode != status || json.Unmarshal([]byte(r.Body), &v) != nil || v.Error != code || v.Message == "" {
		t.Fatalf("%s %s -> %d %s, want %d {error:%q}", r.Request.Method, r.Request.URL, r.StatusCode, r.Body, status, code)
	}
}

// recUpstream is an httptest API that records what reached it.
type recUpstream struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []*http.Request
	bodies  []string
	handler http.HandlerFunc
}

func newRecUpstream(t *testing.T) *recUpstream {
	t.Helper()
	u := &recUpstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.reqs = append(u.reqs, r)
		u.bodies = append(u.bodies, string(body))
		h := u.handler
		u.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		fakeop.WriteJSON(w, 200, map[string]string{"ok": "yes"})
	}))
	t.Cleanup(u.srv.Close)
	return u
}

// setHandler changes how the upstream answers.
func (u *recUpstream) setHandler(h http.HandlerFunc) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.handler = h
}

func (u *recUpstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.reqs)
}

func (u *recUpstream) last(t *testing.T) (*http.Request, string) {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.reqs) == 0 {
		t.Fatal("the upstream saw no request")
	}
	return u.reqs[len(u.reqs)-1], u.bodies[len(u.bodies)-1]
}

func TestProxyDemoAPIWithSessionAccessToken(t *testing.T) {
	app := startApp(t, bffEnv(t))
	spec := newSpecChecker(t, app.URL)
	b := newBrowser(t)
	spec.check(b.bffCall("GET", app.URL+"/api/proxy/demo/me", ""), "")
	b.SignInAs(app.URL, "ada")
	r := b.bffCall("GET", app.URL+"/api/proxy/demo/me", "")
	spec.check(r, "")
	var v struct {
		Claims map[string]any `json:"claims"`
	}
	if r.StatusCode != 200 || json.Unmarshal([]byte(r.Body), &v) != nil || v.Claims["username"] != "ada" || v.Claims["token_use"] != "access" {
		t.Fatalf("demo API through the proxy: %d %s", r.StatusCode, r.Body)
	}
}

func TestProxyForwardsSafely(t *testing.T) {
	up := newRecUpstream(t)
	app := startApp(t, bffEnv(t, "UPSTREAM_REC", up.srv.URL+"/base"))
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")

	up.setHandler(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "up", Value: "1", Path: "/"})
		w.Header().Set("Location", "/base/items/1")
		w.Header().Set("X-Upstream", "yes") // not on the response allow-list
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "created")
	})
	r := b.bffCall("POST", app.URL+"/api/proxy/rec/items/a%20b?x=1&y=two%2F", `{"k":"v"}`,
		"Content-Type", "application/json", "Accept", "application/json", "If-None-Match", `"abc"`,
		"Authorization", "Bearer from-the-browser", "Cookie", "extra=1", "Proxy-Authorization", "Basic eA==",
		"Te", "trailers", "Keep-Alive", "timeout=5", "X-Forwarded-For", "10.0.0.1", "Forwarded", "for=10.0.0.1",
		"X-Custom", "evil", "Upgrade", "websocket")
	if r.StatusCode != http.StatusCreated || r.Body != "created" || r.Header.Get("Location") != "/base/items/1" || r.Header.Get("X-Upstream") != "" {
		t.Fatalf("proxied POST -> %d %q %v", r.StatusCode, r.Body, r.Header)
	}
	for _, c := range r.Cookies() {
		if c.Name == "up" {
			t.Fatal("the upstream's Set-Cookie reached the browser")
		}
	}
	got, body := up.last(t)
	if got.Method != "POST" || got.URL.EscapedPath() != "/base/items/a%20b" || got.URL.RawQuery != "x=1&y=two%2F" || body != `{"k":"v"}` {
		t.Fatalf("upstream saw %s %s ? %s body %q", got.Method, got.URL.EscapedPath(), got.URL.RawQuery, body)
	}
	for k, want := range map[string]string{"Content-Type": "application/json", "Accept": "application/json", "If-None-Match": `"abc"`} {
		if got.Header.Get(k) != want {
			t.Errorf("upstream %s = %q, want %q", k, got.Header.Get(k), want)
		}
	}
	for _, k := range []string{"Cookie", "Proxy-Authorization", "Te", "Keep-Alive", "X-Forwarded-For", "Forwarded", "X-Custom", "Upgrade", "X-Csrf"} {
		if v := got.Header.Get(k); v != "" {
			t.Errorf("upstream got %s: %q", k, v)
		}
	}
	if got.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id upstream")
	}
	bearer, ok := strings.CutPrefix(got.Header.Get("Authorization"), "Bearer ")
	if !ok || bearer == "from-the-browser" {
		t.Fatalf("upstream Authorization = %q", got.Header.Get("Authorization"))
	}
	s, err := core(app.BFF).Sessions().Load(context.Background(), b.SessionCookie(app.URL))
	if err != nil || s.Data.Tokens.AccessToken != bearer {
		t.Fatalf("the bearer token is not the session's access token (%v)", err)
	}
	// And the dev IdP accepts it as ada's access token.
	req, _ := http.NewRequest("GET", app.URL+devIdPPath+"/demo-api/me", nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	if r := newBrowser(t).Do(req); r.StatusCode != 200 || !strings.Contains(r.Body, `"username":"ada"`) {
		t.Fatalf("dev IdP refused the forwarded token: %d %s", r.StatusCode, r.Body)
	}

	// The base URL itself, and a trailing slash, are reachable too.
	b.bffCall("GET", app.URL+"/api/proxy/rec", "")
	if got, _ := up.last(t); got.URL.Path != "/base" {
		t.Errorf("/api/proxy/rec -> upstream %q", got.URL.Path)
	}
	b.bffCall("GET", app.URL+"/api/proxy/REC/x/", "")
	if got, _ := up.last(t); got.URL.Path != "/base/x/" {
		t.Errorf("/api/proxy/REC/x/ -> upstream %q", got.URL.Path)
	}
}

func TestProxyStreams(t *testing.T) {
	up := newRecUpstream(t)
	release := make(chan struct{})
	up.setHandler(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		_, _ = io.WriteString(w, "second\n")
	})
	app := startApp(t, bffEnv(t, "UPSTREAM_REC", up.srv.URL))
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	req, _ := http.NewRequest("GET", app.URL+"/api/proxy/rec/stream", nil)
	req.Header.Set("X-CSRF", "1")
	req.Header.Set("Cookie", "next-auth.session-token="+b.SessionCookie(app.URL))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	if line, err := rd.ReadString('\n'); err != nil || line != "first\n" {
		t.Fatalf("first chunk: %q %v", line, err)
	}
	close(release) // the first chunk arrived while the upstream was still writing
	if rest, _ := io.ReadAll(rd); string(rest) != "second\n" {
		t.Fatalf("rest: %q", rest)
	}
}

func TestProxyRefusals(t *testing.T) {
	up := newRecUpstream(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	// Keep the port (a closed one can be taken by a parallel test's server):
	// every connection is dropped at once, an upstream that is down.
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	app := startApp(t, bffEnv(t, "UPSTREAM_REC", up.srv.URL+"/base", "UPSTREAM_DOWN", down))
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	api := app.URL + "/api/proxy/rec/"

	// no X-CSRF header
	{
		wantJSONError(t, b.bffCall("GET", api+"x", "", "X-CSRF", ""), 401, "csrf_header_missing")
		wantJSONError(t, b.bffCall("GET", api+"x", "", "X-CSRF", "0"), 401, "csrf_header_missing")
	}
	// no session
	{
		wantJSONError(t, newBrowser(t).bffCall("GET", api+"x", ""), 401, "unauthenticated")
		wantJSONError(t, newBrowser(t).bffCall("POST", api+"x", "{}"), 401, "unauthenticated")
	}
	// cross-site
	{
		wantJSONError(t, b.bffCall("POST", api+"x", "{}", "Origin", "https://evil.example"), 403, "cross_origin")
	}
	// unknown upstream
	{
		wantJSONError(t, b.bffCall("GET", app.URL+"/api/proxy/nope/x", ""), 404, "unknown_upstream")
	}
	// traversal
	{
		for _, p := range []string{
			"../x", "a/../../x", "a/..", ".", "a/./b", "%2e%2e/x", "%2E%2E/x", ".%2e/x", "a%2f..%2fx", "a%2F..%2Fx",
			"..%2fx", "%252e%252e/x", "a%252f..%252fx", "..%5cx", "..;/x", "a%00b",
		} {
			wantJSONError(t, b.bffCall("GET", api+p, ""), 400, "bad_path")
		}
	}
	// body too large
	{
		big := strings.Repeat("x", bff.MaxProxyBody+1)
		wantJSONError(t, b.bffCall("POST", api+"upload", big, "Content-Type", "text/plain"), 413, "body_too_large")
	}
	if n := up.count(); n != 0 {
		t.Fatalf("refused calls reached the upstream %d time(s)", n)
	}
	// upstream down
	{
		wantJSONError(t, b.bffCall("GET", app.URL+"/api/proxy/down/x", ""), 502, "upstream_unreachable")
	}
	// upstream 401 on POST is not retried
	{
		before := up.count()
		up.setHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			fakeop.WriteJSON(w, 401, map[string]string{"error": "upstream says no"})
		})
		r := b.bffCall("POST", api+"x", "{}")
		if r.StatusCode != 401 || !strings.Contains(r.Body, "upstream says no") || up.count() != before+1 {
			t.Fatalf("upstream 401: %d %s, %d upstream calls", r.StatusCode, r.Body, up.count()-before)
		}
	}
	// A body streamed without a length is cut at the limit while it is being
	// forwarded (so, unlike the refusals above, the upstream has seen the
	// start of that request: this check runs last).
	{
		big := strings.Repeat("x", bff.MaxProxyBody+1)
		req, _ := http.NewRequest("POST", api+"upload", io.MultiReader(strings.NewReader(big)))
		req.Header.Set("X-CSRF", "1")
		req.ContentLength = -1
		wantJSONError(t, b.Do(req), 413, "body_too_large")
	}
}

func TestProxyRetriesOnceAfterUpstream401(t *testing.T) {
	up := newRecUpstream(t)
	app := startApp(t, bffEnv(t, "UPSTREAM_REC", up.srv.URL))
	var mu sync.Mutex
	refuse := map[string]bool{} // access tokens the upstream calls revoked
	up.setHandler(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if refuse[r.Header.Get("Authorization")] || r.URL.Path == "/always-401" {
			fakeop.WriteJSON(w, 401, map[string]string{"error": "invalid_token"})
			return
		}
		fakeop.WriteJSON(w, 200, map[string]string{"ok": "yes"})
	})
	bearers := func(from int) []string {
		up.mu.Lock()
		defer up.mu.Unlock()
		var out []string
		for _, r := range up.reqs[from:] {
			out = append(out, r.Header.Get("Authorization"))
		}
		return out
	}

	// The upstream refuses the current access token: one refresh, one retry.
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	before, err := core(app.BFF).Sessions().Load(context.Background(), b.SessionCookie(app.URL))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	refuse["Bearer "+before.Data.Tokens.AccessToken] = true
	mu.Unlock()
	r := b.bffCall("GET", app.URL+"/api/proxy/rec/x", "")
	after, err := core(app.BFF).Sessions().Load(context.Background(), b.SessionCookie(app.URL))
	if err != nil {
		t.Fatal(err)
	}
	got := bearers(0)
	if r.StatusCode != 200 || len(got) != 2 || got[0] == got[1] || got[1] != "Bearer "+after.Data.Tokens.AccessToken {
		t.Fatalf("retry after 401: %d %s; upstream saw %d call(s), second with the refreshed token: %v",
			r.StatusCode, r.Body, len(got), len(got) == 2 && got[1] == "Bearer "+after.Data.Tokens.AccessToken)
	}

	// An upstream that keeps refusing gets exactly one retry.
	b2 := newBrowser(t)
	b2.SignInAs(app.URL, "grace")
	n := up.count()
	r = b2.bffCall("GET", app.URL+"/api/proxy/rec/always-401", "")
	if r.StatusCode != 401 || len(bearers(n)) != 2 {
		t.Fatalf("always-401 upstream: %d, %d upstream calls (want 401 after 2)", r.StatusCode, len(bearers(n)))
	}
	// A request with a body is never retried.
	n = up.count()
	r = b2.bffCall("PUT", app.URL+"/api/proxy/rec/always-401", "{}")
	if r.StatusCode != 401 || up.count() != n+1 {
		t.Fatalf("PUT with a body: %d, %d upstream calls (want 1)", r.StatusCode, up.count()-n)
	}
}
