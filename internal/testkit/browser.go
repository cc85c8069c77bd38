// Package testkit is the shared test support of authbff's tests (bff/,
// internal/... and api/): a recording browser and the one sign-in driver.
// Only tests import it; nothing in it is part of any API.
package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/devidp/devidptest"
)

// Browser is an HTTP client with a cookie jar that does not follow
// redirects and records everything it saw (for token-leak checks).
type Browser struct {
	T      testing.TB
	Client *http.Client
	Rec    *Recorder
}

// Recorder is a RoundTripper that records every URL, response header and
// body, and every cookie set.
type Recorder struct {
	mu   sync.Mutex
	seen []string // URLs, response headers and bodies
	set  []*http.Cookie
	// RT is the transport it records (http.DefaultTransport by default).
	RT http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.RT.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, req.URL.String(), string(body))
	for k, vs := range resp.Header {
		r.seen = append(r.seen, k+": "+strings.Join(vs, ", "))
	}
	r.set = append(r.set, resp.Cookies()...)
	return resp, nil
}

// Seen returns a copy of every URL, response header line and body seen.
func (r *Recorder) Seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// Set returns a copy of every cookie a response set.
func (r *Recorder) Set() []*http.Cookie {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Cookie(nil), r.set...)
}

// NewBrowser returns a Browser with an empty cookie jar.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	rec := &Recorder{RT: http.DefaultTransport}
	return &Browser{T: t, Rec: rec, Client: &http.Client{
		Jar: jar, Transport: rec, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is an answer with its body read.
type Response struct {
	*http.Response
	Body string
}

// Do sends req; a transport error fails the test.
func (b *Browser) Do(req *http.Request) Response {
	b.T.Helper()
	resp, err := b.Client.Do(req)
	if err != nil {
		b.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return Response{Response: resp, Body: string(body)}
}

// Get fetches u.
func (b *Browser) Get(u string) Response {
	b.T.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.Do(req)
}

// PostForm posts form to u with the header pairs hdr.
func (b *Browser) PostForm(u string, form url.Values, hdr ...string) Response {
	b.T.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.Do(req)
}

// CSRF returns the token of GET base/api/auth/csrf.
func (b *Browser) CSRF(base string) string {
	b.T.Helper()
	r := b.Get(base + "/api/auth/csrf")
	var v struct{ CsrfToken string }
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil || len(v.CsrfToken) != 64 {
		b.T.Fatalf("csrf: %d %q", r.StatusCode, r.Body)
	}
	return v.CsrfToken
}

// Session returns the parsed session JSON (nil for {} / null).
func (b *Browser) Session(base string) map[string]any {
	b.T.Helper()
	r := b.Get(base + "/api/auth/session")
	if r.StatusCode != 200 {
		b.T.Fatalf("session: status %d %s", r.StatusCode, r.Body)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		b.T.Fatalf("session: %q: %v", r.Body, err)
	}
	if len(v) == 0 {
		return nil
	}
	return v
}

// SessionUser returns session.user's name and email ("" when signed out).
func (b *Browser) SessionUser(base string) (name, email string) {
	b.T.Helper()
	s := b.Session(base)
	u, _ := s["user"].(map[string]any)
	name, _ = u["name"].(string)
	email, _ = u["email"].(string)
	return name, email
}

// StartSignIn does what next-auth/react v4's signIn() does up to the
// navigation: GET /csrf, POST /signin/<id> with json=true; it returns {url}.
func (b *Browser) StartSignIn(base, provider, callbackURL string) string {
	b.T.Helper()
	tok := b.CSRF(base)
	r := b.PostForm(base+"/api/auth/signin/"+provider, url.Values{
		"csrfToken": {tok}, "callbackUrl": {callbackURL}, "json": {"true"},
	})
	var v struct{ URL string }
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil || r.StatusCode != 200 || v.URL == "" {
		b.T.Fatalf("signin: %d %q", r.StatusCode, r.Body)
	}
	return v.URL
}

// DevLogin submits the dev IdP login page's form for one demo user and
// returns the IdP's redirect (to authbff's callback).
func (b *Browser) DevLogin(page Response, user string) Response {
	b.T.Helper()
	if page.StatusCode != 200 || !strings.Contains(page.Body, "login-"+user) {
		b.T.Fatalf("dev IdP login page: %d %s", page.StatusCode, page.Body)
	}
	action, form, err := devidptest.LoginForm(page.Request.URL, page.Body, user)
	if err != nil {
		b.T.Fatal(err)
	}
	return b.PostForm(action, form)
}

// SignIn is the one sign-in driver: next-auth/react's signIn(provider)
// at base, then the IdP (user "" for an IdP that signs in at once, as the
// fake OP does; a demo user's name for the development IdP's login page),
// then authbff's callback, whose answer it returns (not followed).
func (b *Browser) SignIn(base, provider, callbackURL, user string) Response {
	b.T.Helper()
	authURL := b.StartSignIn(base, provider, callbackURL)
	if user == "" {
		return b.Get(Location(b.T, b.Get(authURL)))
	}
	return b.Get(Location(b.T, b.DevLogin(b.Get(authURL), user)))
}

// Location returns a redirect's absolute target.
func Location(t testing.TB, r Response) string {
	t.Helper()
	if r.StatusCode != http.StatusFound && r.StatusCode != http.StatusSeeOther {
		t.Fatalf("want a redirect from %s, got %d: %s", r.Request.URL, r.StatusCode, r.Body)
	}
	loc, err := r.Request.URL.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.String()
}

// CookieNamed returns the cookie called name in cs, nil when none is.
func CookieNamed(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// SignedInClient signs user in at base through the development IdP (as
// devidptest.SignIn does) with a fresh cookie-keeping, non-redirecting
// client, and returns the client. A failure fails the test.
func SignedInClient(t testing.TB, base, user string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	done, err := devidptest.SignIn(c, base, base+"/", user)
	if err != nil {
		t.Fatal(err)
	}
	if got := done.Header.Get("Location"); got != base+"/" {
		t.Fatalf("callback: %d -> %q", done.StatusCode, got)
	}
	return c
}

// SignInAs signs a demo user in at base through the development IdP's
// login page (callback URL base/protected) and fails the test unless the
// sign-in lands there.
func (b *Browser) SignInAs(base, user string) {
	b.T.Helper()
	if got := Location(b.T, b.SignIn(base, "cognito", base+"/protected", user)); got != base+"/protected" {
		b.T.Fatalf("%s sign-in ended at %q", user, got)
	}
}

// SessionCookie returns the session cookie's value the jar holds for base
// ("" when none).
func (b *Browser) SessionCookie(base string) string {
	b.T.Helper()
	u, _ := url.Parse(base)
	if c := CookieNamed(b.Client.Jar.Cookies(u), "next-auth.session-token"); c != nil {
		return c.Value
	}
	return ""
}

// ProxyGet calls the API proxy as the SPA's fetchApi does (X-CSRF: 1).
func (b *Browser) ProxyGet(u string) Response {
	b.T.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("X-CSRF", "1")
	return b.Do(req)
}

// SessionAt reads the session from base with the cookies the jar holds for
// cookieBase (a restarted server may listen on another port).
func (b *Browser) SessionAt(base, cookieBase string) map[string]any {
	b.T.Helper()
	u, _ := url.Parse(cookieBase)
	req, _ := http.NewRequest(http.MethodGet, base+"/api/auth/session", nil)
	for _, c := range b.Client.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	r := b.Do(req)
	var v map[string]any
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		b.T.Fatalf("session %d %q", r.StatusCode, r.Body)
	}
	return v
}

// MustQuery returns raw's query; a bad URL fails the test.
func MustQuery(t testing.TB, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
