package bff_test

// Helpers of the session-shaping tests (issue 23): a dev-IdP user signed
// in with a cookie jar, the session JSON read and update() sent as
// next-auth/react sends them.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/devidp/devidptest"
)

// shapeClient is a browser: a cookie jar (cookies ignore the port, so two
// instances on 127.0.0.1 share them) that follows no redirects.
func shapeClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// demoSub is the dev IdP's subject of a demo user.
func demoSub(t *testing.T, user string) string {
	t.Helper()
	for _, u := range devidp.DemoUsers() {
		if u.Username == user {
			return u.Sub
		}
	}
	t.Fatalf("no demo user %s", user)
	return ""
}

// devSignIn signs user in at base through its dev IdP and returns where the
// callback sent the browser.
func devSignIn(t *testing.T, c *http.Client, base, user string) string {
	t.Helper()
	done, err := devidptest.SignIn(c, base, "", user)
	if err != nil {
		t.Fatalf("sign in %s: %v", user, err)
	}
	if done.StatusCode != http.StatusFound {
		t.Fatalf("sign in %s: callback answered %d", user, done.StatusCode)
	}
	return done.Header.Get("Location")
}

// readSession returns GET /api/auth/session's body, decoded and raw.
func shapeReadSession(t *testing.T, c *http.Client, base string) (map[string]any, string) {
	t.Helper()
	resp, err := c.Get(base + "/api/auth/session")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /session: %d %s", resp.StatusCode, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("session JSON %s: %v", b, err)
	}
	return m, string(b)
}

// csrfToken is GET /api/auth/csrf's token.
func csrfToken(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	resp, err := c.Get(base + "/api/auth/csrf")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ CsrfToken string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.CsrfToken == "" {
		t.Fatalf("csrf: %v", err)
	}
	return v.CsrfToken
}

// update sends update(data) as next-auth/react does (POST /session, JSON
// {csrfToken, data}) and returns the status and the body.
func update(t *testing.T, c *http.Client, base string, data any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"csrfToken": csrfToken(t, c, base), "data": data})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/auth/session", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

// user is the session JSON's user object.
func user(m map[string]any) map[string]any {
	u, _ := m["user"].(map[string]any)
	return u
}

// noToken fails when the session JSON holds something shaped like a token.
func noToken(t *testing.T, raw string) {
	t.Helper()
	if strings.Contains(raw, "eyJ") {
		t.Fatalf("a token in the session JSON: %s", raw)
	}
}

// signOut signs out as next-auth/react does (csrf, POST /signout json).
func signOut(t *testing.T, c *http.Client, base string) {
	t.Helper()
	form := url.Values{"csrfToken": {csrfToken(t, c, base)}, "json": {"true"}}
	resp, err := c.PostForm(base+"/api/auth/signout", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
}
