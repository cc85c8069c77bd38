package bff_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authbff/authbff/bff"
)

// TestLibraryAnswersNoCORS (issue 20 #7): CORS is the host router's job
// (the binary applies gin-contrib/cors, api/cors_test.go): the library's
// handler sets no Access-Control-* header, not even for an origin listed in
// CORSOrigins, while its CSRF origin check still lets that origin's POST
// through and refuses any other origin.
func TestLibraryAnswersNoCORS(t *testing.T) {
	const dev = "http://localhost:5173"
	app := newTestServer(t, bff.Options{DevIdP: true, CORSOrigins: []string{dev}})
	b := newBrowser(t)
	noCORS := func(what string, r response) {
		t.Helper()
		for k := range r.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s: the library answered %s: %q", what, k, r.Header.Values(k))
			}
		}
	}
	req, _ := http.NewRequest(http.MethodOptions, app.URL+"/api/auth/session", nil)
	req.Header.Set("Origin", dev)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-csrf")
	noCORS("preflight", b.Do(req))
	req, _ = http.NewRequest(http.MethodGet, app.URL+"/api/auth/session", nil)
	req.Header.Set("Origin", dev)
	noCORS("GET with Origin", b.Do(req))

	tok := b.CSRF(app.URL)
	ok := b.PostForm(app.URL+"/api/auth/signin/cognito", url.Values{"csrfToken": {tok}, "json": {"true"}}, "Origin", dev)
	if ok.StatusCode != 200 || !strings.Contains(ok.Body, "/_devidp/oauth2/authorize") {
		t.Fatalf("POST from the listed origin: %d %s", ok.StatusCode, ok.Body)
	}
	noCORS("POST from the listed origin", ok)
	bad := b.PostForm(app.URL+"/api/auth/signin/cognito", url.Values{"csrfToken": {tok}, "json": {"true"}}, "Origin", "http://localhost:5174")
	if bad.StatusCode == 200 && strings.Contains(bad.Body, "/_devidp/oauth2/authorize") {
		t.Fatalf("POST from an unlisted origin passed: %d %s", bad.StatusCode, bad.Body)
	}
	if cookieNamed(bad.Cookies(), "next-auth.callback-url") != nil {
		t.Fatal("POST from an unlisted origin set the callback-url cookie")
	}
}
