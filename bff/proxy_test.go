package bff

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/session"
)

// proxyTest is a BFF on loopback with one upstream "up" (at <upstream>/base)
// and one signed-in session.
type proxyTest struct {
	url    string // the BFF's base URL
	cookie string // the session cookie token
	calls  atomic.Int64
	mu     sync.Mutex
	handle http.HandlerFunc // what the upstream answers
}

func newProxyTest(t *testing.T, handle http.HandlerFunc) *proxyTest {
	t.Helper()
	pt := &proxyTest{handle: handle}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pt.calls.Add(1)
		pt.mu.Lock()
		h := pt.handle
		pt.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(up.Close)
	bf, err := New(context.Background(), Options{
		URL: "http://localhost:3000", StoreSpec: "memory", DataDir: t.TempDir(), LogLevel: "error",
		Secrets: []string{"0123456789abcdef0123456789abcdef"}, Upstreams: map[string]string{"up": up.URL + "/base"},
		Providers: []Provider{{ID: "okta", Issuer: "https://idp.example", ClientID: "x", ClientSecret: "y"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bf.Close() })
	pt.cookie, _, err = bf.core.Sessions().Create(context.Background(), session.Data{
		Provider: "okta", Subject: "u1", User: session.User{Name: "Ada"},
		Tokens: session.Tokens{AccessToken: "access-token-of-ada", AccessExpiry: time.Now().Add(time.Hour)},
	}, session.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(bf.Handler())
	t.Cleanup(srv.Close)
	pt.url = srv.URL
	return pt
}

// call sends method target (a raw request target, sent as written) with the
// session and X-CSRF.
func (pt *proxyTest) call(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	req.Header.Set("Cookie", "next-auth.session-token="+pt.cookie)
	req.Header.Set("X-CSRF", "1")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (pt *proxyTest) get(t *testing.T, target string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, pt.url+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return pt.call(t, req)
}

// TestProxyRefusesWhatAHopCouldReinterpret (issue 19 A): segments that
// decode (once or twice) to "?", "#", a control byte, or to a dot segment
// with trailing dots or spaces are refused with 400 bad_path before the
// upstream is called; names with dots, spaces or encoded spaces inside go
// through escaped as sent.
func TestProxyRefusesWhatAHopCouldReinterpret(t *testing.T) {
	var seen []string
	pt := newProxyTest(t, func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.EscapedPath())
		_, _ = io.WriteString(w, "ok")
	})
	for _, p := range []string{
		"..%3f/..%3f/admin", "..%3F/x", "..%23/x", "%2e%2e%3f", "%2e%2e%3f/admin", "..%09", "..%09/x", "..%20",
		"..%20/x", ".%20", "...", "..../x", "..%2e", "%0d%0a", "a%0d%0aX-Injected:%201", "x%0a", "a%7f", "a%3fb",
		"a%23b", "%252e%252e%253f", "%252e%252e%253f/admin", "..%253f/..%253f/admin", "..%2509", "..%2520",
		"%250d%250a", "a%2523b", "..%3b%20",
	} {
		r := pt.get(t, "/api/proxy/up/"+p)
		var body struct{ Error, Message string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.StatusCode != http.StatusBadRequest || body.Error != "bad_path" || body.Message == "" {
			t.Errorf("%s: %d %+v (%v), want 400 bad_path", p, r.StatusCode, body, err)
		}
	}
	if n := pt.calls.Load(); n != 0 {
		t.Fatalf("refused paths reached the upstream %d time(s): %q", n, seen)
	}
	for _, p := range []string{"a%20b", "v1..2", "...x", "a.", "a..", "x/.well-known/y", "%2e%2e.x", "a%2520b"} {
		r := pt.get(t, "/api/proxy/up/"+p)
		if r.StatusCode != http.StatusOK {
			t.Errorf("%s: %d, want 200", p, r.StatusCode)
		}
	}
	want := []string{"/base/a%20b", "/base/v1..2", "/base/...x", "/base/a.", "/base/a..", "/base/x/.well-known/y", "/base/%2e%2e.x", "/base/a%2520b"}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Fatalf("the upstream saw %q, want %q", seen, want)
	}
}
