package bff

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
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
		URL: "http://localhost:3000", StoreSpec: "memory", DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler),
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

// TestProxyResponseHeaderAllowList (issue 19 B): only allow-listed upstream
// headers and trailers reach the browser.
func TestProxyResponseHeaderAllowList(t *testing.T) {
	pt := newProxyTest(t, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range map[string]string{
			// refused
			"Clear-Site-Data": `"*"`, "Refresh": "0; url=https://evil.example/", "Strict-Transport-Security": "max-age=0",
			"Set-Cookie": "a=1; Path=/", "Access-Control-Allow-Origin": "*", "Content-Security-Policy": "default-src *",
			"Alt-Svc": `h3=":443"`, "X-Powered-By": "upstream", "X-Request-Id": "from-upstream",
			// kept
			"Content-Type": "application/json", "Cache-Control": "private, max-age=60", "Etag": `"v1"`,
			"Last-Modified": "Mon, 02 Jan 2006 15:04:05 GMT", "Location": "/base/items/1", "Retry-After": "5",
			"Vary": "Accept", "Www-Authenticate": `Bearer error="insufficient_scope"`, "Link": `</base/items?page=2>; rel="next"`,
			"X-Ratelimit-Remaining": "9", "Ratelimit-Policy": "10;w=60", "Content-Disposition": "attachment", "Sunset": "Sat, 01 Jan 2028 00:00:00 GMT",
		} {
			h.Set(k, v)
		}
		h.Set("Trailer", "Server-Timing, Clear-Site-Data")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"ok":true}`)
		h.Set("Server-Timing", "db;dur=5")
		h.Set("Clear-Site-Data", `"cookies"`)
		h.Set(http.TrailerPrefix+"Set-Cookie", "b=2") // announced by nobody
	})
	r := pt.get(t, "/api/proxy/up/items")
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != http.StatusCreated || string(body) != `{"ok":true}` {
		t.Fatalf("%d %s", r.StatusCode, body)
	}
	for _, k := range []string{"Clear-Site-Data", "Refresh", "Strict-Transport-Security", "Set-Cookie", "Access-Control-Allow-Origin",
		"Content-Security-Policy", "Alt-Svc", "X-Powered-By"} {
		if v := r.Header.Values(k); len(v) > 0 {
			t.Errorf("the upstream's %s reached the browser: %q", k, v)
		}
	}
	if v := r.Header.Values("X-Request-Id"); len(v) != 1 || v[0] == "from-upstream" {
		t.Errorf("X-Request-Id = %q, want authbff's only", v)
	}
	for k, want := range map[string]string{
		"Content-Type": "application/json", "Cache-Control": "private, max-age=60", "Etag": `"v1"`, "Location": "/base/items/1",
		"Retry-After": "5", "Vary": "Accept", "Www-Authenticate": `Bearer error="insufficient_scope"`,
		"Link": `</base/items?page=2>; rel="next"`, "X-Ratelimit-Remaining": "9", "Ratelimit-Policy": "10;w=60",
		"Content-Disposition": "attachment", "Sunset": "Sat, 01 Jan 2028 00:00:00 GMT",
		"Last-Modified": "Mon, 02 Jan 2006 15:04:05 GMT", "X-Content-Type-Options": "nosniff",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := r.Trailer.Get("Server-Timing"); got != "db;dur=5" {
		t.Errorf("trailer Server-Timing = %q (trailers %v)", got, r.Trailer)
	}
	for _, k := range []string{"Clear-Site-Data", "Set-Cookie"} {
		if v := r.Trailer.Values(k); len(v) > 0 {
			t.Errorf("the upstream's trailer %s reached the browser: %q", k, v)
		}
	}
}

// TestProxyDropsRequestTrailer (issue 19 B): a chunked request's Trailer
// declaration and its trailers are not forwarded.
func TestProxyDropsRequestTrailer(t *testing.T) {
	var got http.Header
	var gotBody string
	pt := newProxyTest(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody, got = string(b), r.Trailer.Clone()
		if v := r.Header.Values("Trailer"); len(v) > 0 {
			got.Set("Trailer-Header", strings.Join(v, ","))
		}
	})
	req, err := http.NewRequest(http.MethodPost, pt.url+"/api/proxy/up/items", io.MultiReader(strings.NewReader(`{"a":1}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	req.Trailer = http.Header{"X-Checksum": {"abc"}, "Authorization": {"Bearer forged"}}
	if r := pt.call(t, req); r.StatusCode != http.StatusOK {
		t.Fatalf("%d", r.StatusCode)
	}
	if gotBody != `{"a":1}` || len(got) > 0 {
		t.Fatalf("upstream got body %q and trailers %v", gotBody, got)
	}
}
