package main

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
)

// The hooks of a program outside the module: grace's sign-in ends on the
// AccessDenied page with no session; ada's session JSON has "plan": "pro";
// the sign-in and sign-out events arrive once each.
func TestHooks(t *testing.T) {
	var mu sync.Mutex
	var events []bff.Event
	o := bff.Options{Secrets: []string{"hooks-example-secret-0123456789abcdef"}, DataDir: t.TempDir(), DevIdP: true}
	Hooks(&o, func(e bff.Event) { mu.Lock(); events = append(events, e); mu.Unlock() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	o.URL = base
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := bff.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	srv := &http.Server{Handler: b.Handler()}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	grace := client()
	cb := signIn(t, grace, base, "grace")
	if loc := cb.Header.Get("Location"); cb.StatusCode != http.StatusFound || !strings.Contains(loc, "error=AccessDenied") {
		t.Fatalf("grace's callback: %d -> %q, want the AccessDenied page", cb.StatusCode, loc)
	}
	for _, c := range cb.Cookies() {
		if strings.Contains(c.Name, "session-token") && c.Value != "" {
			t.Fatalf("grace got a session cookie: %s", c.Name)
		}
	}
	if s := session(t, grace, base); len(s) != 0 {
		t.Fatalf("grace has a session: %v", s)
	}

	ada := client()
	if cb := signIn(t, ada, base, "ada"); cb.StatusCode != http.StatusFound || strings.Contains(cb.Header.Get("Location"), "error") {
		t.Fatalf("ada's callback: %d -> %q", cb.StatusCode, cb.Header.Get("Location"))
	}
	s := session(t, ada, base)
	if s["plan"] != "pro" {
		t.Fatalf(`ada's session JSON has no "plan": "pro": %v`, s)
	}
	resp, err := ada.PostForm(base+"/api/auth/signout", url.Values{"csrfToken": {csrfToken(t, ada, base)}, "json": {"true"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	mu.Lock()
	defer mu.Unlock()
	count := map[bff.EventKind]int{}
	for _, e := range events {
		count[e.Kind]++
		if e.Sub == "" || e.Provider != "cognito" {
			t.Errorf("event without its user: %+v", e)
		}
	}
	if count[bff.EventSignedIn] != 1 || count[bff.EventSignedOut] != 1 {
		t.Fatalf("events %+v: want one signed_in (ada's) and one signed_out", events)
	}
}

func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func getJSON(t *testing.T, c *http.Client, u string, v any) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %d: %v", u, resp.StatusCode, err)
	}
}

func session(t *testing.T, c *http.Client, base string) map[string]any {
	t.Helper()
	var m map[string]any
	getJSON(t, c, base+"/api/auth/session", &m)
	return m
}

func csrfToken(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	var v struct{ CsrfToken string }
	getJSON(t, c, base+"/api/auth/csrf", &v)
	return v.CsrfToken
}

var (
	formRe  = regexp.MustCompile(`(?s)<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>`)
	inputRe = regexp.MustCompile(`<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"`)
)

// signIn walks the sign-in as next-auth/react and a browser do and
// returns authbff's callback answer.
func signIn(t *testing.T, c *http.Client, base, user string) *http.Response {
	t.Helper()
	resp, err := c.PostForm(base+"/api/auth/signin/cognito", url.Values{
		"csrfToken": {csrfToken(t, c, base)}, "json": {"true"}, "callbackUrl": {base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	var start struct{ URL string }
	err = json.NewDecoder(resp.Body).Decode(&start)
	resp.Body.Close()
	if err != nil || start.URL == "" {
		t.Fatalf("POST signin: %d (%v)", resp.StatusCode, err)
	}
	page, err := c.Get(start.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	var action *url.URL
	form := url.Values{}
	for _, m := range formRe.FindAllStringSubmatch(string(body), -1) {
		if strings.Contains(m[2], "login-"+user) {
			action, _ = page.Request.URL.Parse(html.UnescapeString(m[1]))
			for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
				form.Set(in[1], html.UnescapeString(in[2]))
			}
		}
	}
	if action == nil {
		t.Fatalf("no login form for %s", user)
	}
	login, err := c.PostForm(action.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	login.Body.Close()
	loc, err := login.Request.URL.Parse(login.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := c.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	cb.Body.Close()
	return cb
}
