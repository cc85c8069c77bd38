package api

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/testkit"
)

func TestCORSAllowList(t *testing.T) {
	const dev = "http://localhost:5173"
	app := startApp(t, map[string]string{"SESSION_STORE": "memory", "AUTHBFF_DATA_DIR": t.TempDir(), "CORS_ORIGINS": dev})
	b := newBrowser(t)
	preflight := func(origin string) response {
		req, _ := http.NewRequest(http.MethodOptions, app.URL+"/api/auth/session", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-csrf")
		return b.Do(req)
	}
	r := preflight(dev)
	if r.Header.Get("Access-Control-Allow-Origin") != dev || r.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("allowed origin preflight: %d %v", r.StatusCode, r.Header)
	}
	r = preflight("https://evil.example")
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("other origin got Access-Control-Allow-Origin %q", got)
	}
	// A credentialed GET from the allowed origin sees its own origin, never "*".
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/auth/session", nil)
	req.Header.Set("Origin", dev)
	if got := b.Do(req).Header.Get("Access-Control-Allow-Origin"); got != dev {
		t.Fatalf("GET from allowed origin: ACAO %q", got)
	}
	// A POST from the allowed origin passes the Origin check (the CSRF token
	// still decides); from any other origin it is refused.
	tok := b.CSRF(app.URL)
	ok := b.PostForm(app.URL+"/api/auth/signin/cognito", url.Values{"csrfToken": {tok}, "json": {"true"}}, "Origin", dev)
	if ok.StatusCode != 200 || !strings.Contains(ok.Body, "/_devidp/oauth2/authorize") {
		t.Fatalf("POST from the allowed origin: %d %s", ok.StatusCode, ok.Body)
	}
	bad := b.PostForm(app.URL+"/api/auth/signin/cognito", url.Values{"csrfToken": {tok}, "json": {"true"}}, "Origin", "http://localhost:5174")
	if bad.StatusCode != http.StatusForbidden && !strings.Contains(bad.Body, "csrf=true") || cookieNamed(bad.Cookies(), "next-auth.callback-url") != nil {
		t.Fatalf("POST from another origin: %d %s", bad.StatusCode, bad.Body)
	}
}

func TestCORSWildcardRefused(t *testing.T) {
	_, err := New(Options{Source: envSource(map[string]string{"CORS_ORIGINS": "*"}, t.TempDir())})
	if err == nil || !strings.Contains(err.Error(), "CORS_ORIGINS") {
		t.Fatalf("CORS_ORIGINS=* accepted: %v", err)
	}
}

// TestCORSBehindHostRewritingProxy (issue 20 #7): behind a reverse proxy
// that rewrites Host, the app's own credentialed POSTs (Origin is
// NEXTAUTH_URL's origin, Host is not its host) pass gin-contrib/cors, which
// takes only an Origin naming the Host header as same-origin, because the
// server lists the app's origin explicitly; through the same proxy a
// preflight from CORS_ORIGINS gets the CORS headers, one from elsewhere none.
func TestCORSBehindHostRewritingProxy(t *testing.T) {
	const dev, proxied = "http://localhost:5173", "authbff.internal:8080"
	app := startApp(t, map[string]string{"SESSION_STORE": "memory", "NEXTAUTH_URL": "auto", "CORS_ORIGINS": dev})
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	u, _ := url.Parse(app.URL)
	plain := &browser{&testkit.Browser{T: t, Rec: b.Rec, Client: &http.Client{Transport: b.Rec, CheckRedirect: b.Client.CheckRedirect}}}
	viaProxy := func(method, path string, form url.Values, hdr ...string) response {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, app.URL+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		for _, c := range b.Client.Jar.Cookies(u) {
			req.AddCookie(c) // by hand: the browser's cookies for the public origin
		}
		req.Host = proxied // what the reverse proxy forwards
		return plain.Do(req)
	}
	tok := b.CSRF(app.URL)

	r := viaProxy(http.MethodPost, "/api/auth/signin/cognito", url.Values{"csrfToken": {tok}, "json": {"true"}}, "Origin", app.URL)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "/oauth2/authorize") {
		t.Fatalf("sign-in POST from the app's origin with Host %s: %d %s", proxied, r.StatusCode, r.Body)
	}
	r = viaProxy(http.MethodPost, "/api/auth/signout", url.Values{"csrfToken": {tok}, "callbackUrl": {app.URL + "/"}, "json": {"true"}}, "Origin", app.URL)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `"url"`) {
		t.Fatalf("sign-out POST from the app's origin with Host %s: %d %s", proxied, r.StatusCode, r.Body)
	}
	if s := b.Session(app.URL); s != nil {
		t.Fatalf("still signed in after the sign-out through the proxy: %v", s)
	}

	preflight := func(origin string) response {
		return viaProxy(http.MethodOptions, "/api/auth/signout", nil, "Origin", origin,
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,x-csrf")
	}
	r = preflight(dev)
	h := r.Header
	if r.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != dev || h.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "x-csrf") ||
		h.Get("Access-Control-Max-Age") != "600" {
		t.Fatalf("preflight from %s: %d %v", dev, r.StatusCode, h)
	}
	r = preflight("https://evil.example")
	for k := range r.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("preflight from another origin got %s: %q", k, r.Header.Get(k))
		}
	}
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("preflight from another origin: %d, want 403", r.StatusCode)
	}
}
