package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/bff/store"
	"github.com/authbff/authbff/bff/store/storetest"
)

// MapStore keeps the published contract: one call runs the whole suite.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := NewMapStore()
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// A BFF keeps its sessions in MapStore: Ada signs in through the
// development IdP over loopback HTTP, GET /api/auth/session names her, her
// session is a record in MapStore, and after sign-out it is gone.
func TestSignInWithMapStore(t *testing.T) {
	sessions := NewMapStore()
	t.Cleanup(func() { _ = sessions.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := bff.New(ctx, bff.Options{
		URL:     base,
		Secrets: []string{"mapstore-example-secret-0123456789abcdef"},
		DataDir: t.TempDir(),
		DevIdP:  true,
		Store:   sessions,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	srv := &http.Server{Handler: b.Handler()}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if name := sessionName(t, c, base); name != "" {
		t.Fatalf("before sign-in the session names %q", name)
	}
	signIn(t, c, base, "ada")
	if name := sessionName(t, c, base); name != "Ada Lovelace" {
		t.Fatalf("after sign-in the session names %q, want Ada Lovelace", name)
	}
	if n := liveSessions(sessions); n != 1 {
		t.Fatalf("MapStore holds %d live sessions after one sign-in, want 1", n)
	}

	resp, err := c.PostForm(base+"/api/auth/signout", url.Values{"csrfToken": {csrfToken(t, c, base)}, "json": {"true"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if name := sessionName(t, c, base); name != "" {
		t.Fatalf("after sign-out the session names %q", name)
	}
	if n := liveSessions(sessions); n != 0 {
		t.Fatalf("MapStore holds %d live sessions after sign-out, want 0", n)
	}
}

// liveSessions counts s's unexpired records.
func liveSessions(s *MapStore) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id := range s.recs {
		if s.live(id, time.Now()) != nil {
			n++
		}
	}
	return n
}

// getJSON GETs url into v and returns the status.
func getJSON(t *testing.T, c *http.Client, url string, v any) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %d: %v", url, resp.StatusCode, err)
	}
	return resp.StatusCode
}

// sessionName returns the user's name GET /api/auth/session answers, ""
// without a session.
func sessionName(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	var s struct {
		User struct{ Name string }
	}
	if code := getJSON(t, c, base+"/api/auth/session", &s); code != http.StatusOK {
		t.Fatalf("GET /api/auth/session: %d", code)
	}
	return s.User.Name
}

// csrfToken returns GET /api/auth/csrf's token (its cookie kept in c's jar).
func csrfToken(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	var v struct{ CsrfToken string }
	if code := getJSON(t, c, base+"/api/auth/csrf", &v); code != http.StatusOK || v.CsrfToken == "" {
		t.Fatalf("GET /api/auth/csrf: %d %+v", code, v)
	}
	return v.CsrfToken
}

var (
	formRe  = regexp.MustCompile(`(?s)<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>`)
	inputRe = regexp.MustCompile(`<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"`)
)

// signIn signs user in as next-auth/react and a browser do: the CSRF
// token, POST /api/auth/signin/cognito (json), the development IdP's page
// and the user's login form on it, then authbff's callback, which must
// answer with a redirect and the session cookie.
func signIn(t *testing.T, c *http.Client, base, user string) {
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
		t.Fatalf("POST signin: %d, no url (%v)", resp.StatusCode, err)
	}

	page, err := c.Get(start.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	action, form, err := loginForm(page.Request.URL, string(body), user)
	if err != nil {
		t.Fatalf("IdP page %d: %v", page.StatusCode, err)
	}
	login, err := c.PostForm(action, form)
	if err != nil {
		t.Fatal(err)
	}
	login.Body.Close()
	loc, err := login.Request.URL.Parse(login.Header.Get("Location"))
	if err != nil || login.Header.Get("Location") == "" {
		t.Fatalf("IdP login answered %d without a redirect", login.StatusCode)
	}

	cb, err := c.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	cb.Body.Close()
	if got := cb.Header.Get("Location"); cb.StatusCode != http.StatusFound || got != base+"/" {
		t.Fatalf("callback: %d -> %q, want 302 -> %s/", cb.StatusCode, got, base)
	}
}

// loginForm finds, on the development IdP's page, the form holding the
// button login-<user>: its action resolved against page, and its fields.
func loginForm(page *url.URL, body, user string) (string, url.Values, error) {
	for _, m := range formRe.FindAllStringSubmatch(body, -1) {
		if !strings.Contains(m[2], "login-"+user) {
			continue
		}
		action, err := page.Parse(html.UnescapeString(m[1]))
		if err != nil {
			return "", nil, err
		}
		form := url.Values{}
		for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
			form.Set(in[1], html.UnescapeString(in[2]))
		}
		return action.String(), form, nil
	}
	return "", nil, fmt.Errorf("no login form for %s in %.300q", user, body)
}
