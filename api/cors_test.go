package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
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
		return b.do(req)
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
	if got := b.do(req).Header.Get("Access-Control-Allow-Origin"); got != dev {
		t.Fatalf("GET from allowed origin: ACAO %q", got)
	}
	// A POST from the allowed origin passes the Origin check (the CSRF token
	// still decides); from any other origin it is refused.
	tok := b.csrf(app.URL)
	ok := b.postForm(app.URL+"/api/auth/signin/cognito", url.Values{"csrfToken": {tok}, "json": {"true"}}, "Origin", dev)
	if ok.StatusCode != 200 || !strings.Contains(ok.Body, "/_devidp/oauth2/authorize") {
		t.Fatalf("POST from the allowed origin: %d %s", ok.StatusCode, ok.Body)
	}
	bad := b.postForm(app.URL+"/api/auth/signin/cognito", url.Values{"csrfToken": {tok}, "json": {"true"}}, "Origin", "http://localhost:5174")
	if bad.StatusCode != http.StatusForbidden && !strings.Contains(bad.Body, "csrf=true") || cookieNamed(bad.Cookies(), "next-auth.callback-url") != nil {
		t.Fatalf("POST from another origin: %d %s", bad.StatusCode, bad.Body)
	}
}

func TestCORSWildcardRefused(t *testing.T) {
	_, err := NewMain(Options{Source: envSource(map[string]string{"CORS_ORIGINS": "*"}, t.TempDir())})
	if err == nil || !strings.Contains(err.Error(), "CORS_ORIGINS") {
		t.Fatalf("CORS_ORIGINS=* accepted: %v", err)
	}
}
