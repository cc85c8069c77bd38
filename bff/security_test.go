package bff_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/testkit"
)

// TestGuardDecidesOnTheServedPage (issue 10 #1): no spelling of a protected
// page reaches it without a session - for the embedded SPA and SPA_DIR.
func TestGuardDecidesOnTheServedPage(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"index.html":   "<title>Home</title>",
		"account.html": "<title>SECRET account page</title>",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name      string
		env       map[string]string
		marker    string
		spellings []string
	}{
		{"embedded", map[string]string{"SESSION_STORE": "memory"}, "Protected page",
			[]string{"/protected", "//protected", "/./protected", "/x/../protected", "/protected/", "/protected.html", "/protected%2f", "/PROTECTED/../protected"}},
		{"SPA_DIR", map[string]string{"SESSION_STORE": "memory", "SPA_DIR": dir, "PROTECTED_PATHS": "/account"}, "SECRET",
			[]string{"/account", "/account/", "/account.html", "/account%2f", "//account", "/./account", "/x/../account"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := startApp(t, tc.env)
			c := &http.Client{Timeout: 5 * time.Second} // follows redirects, as a browser does
			for _, p := range tc.spellings {
				req, err := http.NewRequest(http.MethodGet, app.URL+p, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.URL.Opaque = p // sent exactly as spelled
				resp, err := c.Do(req)
				if err != nil {
					t.Fatalf("GET %s: %v", p, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if strings.Contains(string(body), tc.marker) {
					t.Errorf("signed out GET %s served the protected page (final URL %s, %d)", p, resp.Request.URL, resp.StatusCode)
				}
			}
		})
	}
}

// TestDevIdPIsLoopbackOnly (issue 10 #3): the dev IdP refuses foreign Hosts
// even from loopback (DNS rebinding); that the binary listens on 127.0.0.1
// only is api's TestDevIdPListensOnLoopbackOnly. A Host never lets a
// request in: the peer decides (issue 19, TestDevIdPRefusesNetworkPeers).
func TestDevIdPIsLoopbackOnly(t *testing.T) {
	app := newTestServer(t, bff.Options{DevIdP: true})
	for host, want := range map[string]int{"evil.example": 403, "192.0.2.1:3000": 403, "localhost": 200} {
		req, _ := http.NewRequest(http.MethodGet, app.URL+"/_devidp/us-east-1_authbffdev/.well-known/openid-configuration", nil)
		req.Host = host
		if r := newBrowser(t).Do(req); r.StatusCode != want {
			t.Errorf("dev IdP with Host %s: %d, want %d", host, r.StatusCode, want)
		}
	}
}

// TestHTTPSCookiesAreHostPrefixed (issue 10 #4, #10): on an https
// NEXTAUTH_URL every cookie authbff sets is __Host- (Secure, Path=/, no
// Domain), answers carry HSTS, and a session under the old __Secure- name
// is still honoured once and moved.
func TestHTTPSCookiesAreHostPrefixed(t *testing.T) {
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	certs, pool := ts.TLS.Certificates, x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	ts.Close()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "https://" + raw.Addr().String()
	ln := tls.NewListener(raw, &tls.Config{Certificates: certs})
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	env := map[string]string{"SESSION_STORE": "memory", "NEXTAUTH_URL": origin}
	o, err := envOptions(t, env, ln)
	if err != nil {
		t.Fatal(err)
	}
	o.HTTPClient = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	newTestServerOn(t, o, ln)

	jar, _ := cookiejar.New(nil)
	rec := &testkit.Recorder{RT: tr}
	b := &browser{&testkit.Browser{T: t, Rec: rec, Client: &http.Client{Jar: jar, Transport: rec, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}}
	authURL := b.StartSignIn(origin, "cognito", origin+"/protected")
	cb := b.DevLogin(b.Get(authURL), "ada")
	if got := location(t, b.Get(location(t, cb))); got != origin+"/protected" {
		t.Fatalf("https sign-in ended at %s", got)
	}
	if b.Session(origin) == nil {
		t.Fatal("not signed in over https")
	}
	page := b.Get(origin + "/")
	if !strings.HasPrefix(page.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("no HSTS on https: %v", page.Header)
	}
	var authbff []*http.Cookie
	for _, c := range rec.Set() {
		if strings.Contains(c.Name, "next-auth") {
			authbff = append(authbff, c)
		}
	}
	if len(authbff) < 4 {
		t.Fatalf("only %d authbff cookies seen", len(authbff))
	}
	for _, c := range authbff {
		if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || c.Path != "/" || c.Domain != "" {
			t.Errorf("cookie %s: Secure=%v Path=%q Domain=%q, want __Host- with Secure, Path=/ and no Domain", c.Name, c.Secure, c.Path, c.Domain)
		}
	}

	// A session cookie of an earlier release (__Secure- name) still works
	// once and is moved to the __Host- name.
	u, _ := url.Parse(origin)
	var tok string
	for _, c := range jar.Cookies(u) {
		if c.Name == "__Host-next-auth.session-token" {
			tok = c.Value
		}
	}
	req, _ := http.NewRequest(http.MethodGet, origin+"/api/auth/session", nil)
	req.AddCookie(&http.Cookie{Name: "__Secure-next-auth.session-token", Value: tok})
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	moved, cleared := false, false
	for _, c := range resp.Cookies() {
		moved = moved || (c.Name == "__Host-next-auth.session-token" && c.Value == tok)
		cleared = cleared || (c.Name == "__Secure-next-auth.session-token" && c.MaxAge < 0)
	}
	if !strings.Contains(string(body), "Ada Lovelace") || !moved || !cleared {
		t.Fatalf("legacy session cookie: %s moved=%v cleared=%v", body, moved, cleared)
	}
}

// TestProxyRefusesTraceAndStripsCORS (issue 10 #6).
func TestProxyRefusesTraceAndStripsCORS(t *testing.T) {
	var methods []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods = append(methods, r.Method)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<b>hi</b>")
	}))
	defer up.Close()
	app := startApp(t, map[string]string{"SESSION_STORE": "memory", "UPSTREAM_ECHO": up.URL})
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	for _, m := range []string{"TRACE", "CONNECT"} {
		if r := b.bffCall(m, app.URL+"/api/proxy/echo/x", ""); r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s through the proxy: %d, want 405", m, r.StatusCode)
		}
	}
	if len(methods) != 0 {
		t.Fatalf("the upstream saw %v", methods)
	}
	r := b.bffCall("GET", app.URL+"/api/proxy/echo/x", "")
	if r.StatusCode != 200 || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET: %d nosniff=%q", r.StatusCode, r.Header.Get("X-Content-Type-Options"))
	}
	for k := range r.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("the upstream's %s reached the browser", k)
		}
	}
}

// TestOriginCheckUsesNextAuthURL (issue 10 #8): with CORS_ORIGINS set, a
// same-origin POST behind a proxy that rewrites Host is accepted.
func TestOriginCheckUsesNextAuthURL(t *testing.T) {
	app := startApp(t, map[string]string{"SESSION_STORE": "memory", "NEXTAUTH_URL": "auto", "CORS_ORIGINS": "http://localhost:5173"})
	b := newBrowser(t)
	tok := b.CSRF(app.URL)
	req, _ := http.NewRequest(http.MethodPost, app.URL+"/api/auth/signin/cognito",
		strings.NewReader(url.Values{"csrfToken": {tok}, "json": {"true"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", app.URL)
	u, _ := url.Parse(app.URL)
	for _, c := range b.Client.Jar.Cookies(u) {
		req.AddCookie(c) // by hand: the client's jar looks cookies up by Host
	}
	req.Host = "authbff.internal:8080" // what a reverse proxy forwards
	plain := &browser{&testkit.Browser{T: t, Rec: b.Rec, Client: &http.Client{Transport: b.Rec, CheckRedirect: b.Client.CheckRedirect}}}
	if r := plain.Do(req); r.StatusCode != 200 || !strings.Contains(r.Body, "/oauth2/authorize") {
		t.Fatalf("same-origin POST with a rewritten Host: %d %s", r.StatusCode, r.Body)
	}
}

// TestLongCallbackURLStillSignsIn (issue 10 #9, #10): a 3,000-character
// callbackUrl never makes a cookie over the browser's 4,096 bytes, the
// sign-in still works (landing on the origin), and the callback's redirect
// is never cached.
func TestLongCallbackURLStillSignsIn(t *testing.T) {
	app := newTestServer(t, bff.Options{DevIdP: true})
	b := newBrowser(t)
	long := app.URL + "/protected?q=" + strings.Repeat("x", 3000)
	authURL := b.StartSignIn(app.URL, "cognito", long)
	for _, c := range b.Rec.Set() {
		if n := len(c.String()); n > 4096 {
			t.Errorf("Set-Cookie %s is %d bytes", c.Name, n)
		}
	}
	cb := b.DevLogin(b.Get(authURL), "ada")
	done := b.Get(location(t, cb))
	if cc := done.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("callback redirect Cache-Control %q, want no-store", cc)
	}
	if got := location(t, done); !strings.HasPrefix(got, app.URL) {
		t.Fatalf("callback led to %s", got)
	}
	if b.Session(app.URL) == nil {
		t.Fatal("the long callbackUrl broke the sign-in")
	}
	if r := b.Get(app.URL + "/api/auth/providers"); r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("JSON without nosniff")
	}
}
