package bff_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTwoInstancesJourney: a sign-in started on A finishes on B, the session
// is served by both, and a sign-out on B ends it on A at once.
func TestTwoInstancesJourney(t *testing.T) {
	c := newCluster(t, clusterOpts{})
	b := newBrowser(t)
	c.signIn(t, b, "a", "b")
	for _, name := range []string{"a", "b", "a"} {
		c.lb.use(name)
		s := b.Session(c.URL)
		if u, _ := s["user"].(map[string]any); u["email"] != "ada@example.com" {
			t.Fatalf("session on %s = %v", name, s)
		}
	}
	// Another tab (or a stolen copy) keeps the cookie: it must stop working on
	// A the moment B ends the session, although A has the session cached.
	kept := b.Client.Jar.Cookies(mustURL(t, c.URL))
	c.lb.use("b")
	tok := b.CSRF(c.URL)
	out := b.PostForm(c.URL+"/api/auth/signout", url.Values{"csrfToken": {tok}, "callbackUrl": {c.URL + "/"}, "json": {"true"}})
	if out.StatusCode != 200 {
		t.Fatalf("sign-out on b: %d %s", out.StatusCode, out.Body)
	}
	c.lb.use("a")
	if s := b.Session(c.URL); s != nil {
		t.Fatalf("session on a after sign-out on b = %v", s)
	}
	other := newBrowser(t)
	other.Client.Jar.SetCookies(mustURL(t, c.URL), kept)
	// Not eventually: once the sign-out has answered, no instance serves it.
	if s := other.Session(c.URL); s != nil {
		t.Fatalf("a kept serving the ended session to a kept cookie: %v", s)
	}
	if st := c.idp.Stats(); st.CodeGrants != 1 {
		t.Fatalf("IdP stats %+v, want 1 code grant", st)
	}
}

// TestTwoInstancesOneRefresh: 200 concurrent session reads that all need a
// refresh of the same session, spread over both instances (GET with
// AUTH_REFRESH_ON_SESSION=1 and POST with a CSRF token), cause exactly one
// refresh at the IdP, and every one of them succeeds.
func TestTwoInstancesOneRefresh(t *testing.T) {
	c := newCluster(t, clusterOpts{env: map[string]string{"AUTH_REFRESH_ON_SESSION": "1"}})
	b := newBrowser(t)
	c.signIn(t, b, "a", "a")
	c.idp.gate.Delay.Store(int64(150 * time.Millisecond)) // a slow IdP widens the race
	csrf := b.CSRF(c.URL)
	cookies := b.Client.Jar.Cookies(mustURL(t, c.URL))
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	defer client.CloseIdleConnections()

	const n = 200
	start := make(chan struct{})
	errs := make(chan string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			backend := []string{"a", "b"}[i%2]
			tok := ""
			if i%4 >= 2 {
				tok = csrf // POST /session, like update()
			}
			<-start
			status, _, body, err := rawSession(client, c.URL, backend, cookies, tok)
			var v map[string]any
			switch {
			case err != nil:
				errs <- err.Error()
			case status != 200:
				errs <- body
			case json.Unmarshal([]byte(body), &v) != nil || v["user"] == nil || v["error"] != nil:
				errs <- "session " + body
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("request failed: %s", e)
	}
	if st := c.idp.Stats(); st.RefreshGrants != 1 || c.idp.gate.Attempts.Load() != 1 {
		t.Fatalf("%d concurrent reads over 2 instances: %d refresh grants (%d attempts), want exactly 1",
			n, st.RefreshGrants, c.idp.gate.Attempts.Load())
	}
	t.Logf("%d concurrent requests on 2 instances -> %d refresh call", n, c.idp.Stats().RefreshGrants)
}

// TestRedisHoldsNoSecrets: after a sign-in and a refresh, no key or value in
// Redis contains the session cookie's token or any OAuth token.
func TestRedisHoldsNoSecrets(t *testing.T) {
	c := newCluster(t, clusterOpts{})
	b := newBrowser(t)
	cookie := c.signIn(t, b, "a", "b")
	tok := b.CSRF(c.URL)
	if r := b.PostForm(c.URL+"/api/auth/session", url.Values{"csrfToken": {tok}}); r.StatusCode != 200 {
		t.Fatalf("POST /session: %d %s", r.StatusCode, r.Body)
	}
	if c.idp.Stats().RefreshGrants != 1 {
		t.Fatal("no refresh happened")
	}
	secrets := append(c.idp.gate.Issued(), cookie)
	if len(secrets) < 6 { // 3 from sign-in, 2+ from the refresh, the cookie
		t.Fatalf("recorded only %d secrets", len(secrets))
	}
	dump := c.redisDump(t)
	if len(dump) < 2 {
		t.Fatalf("Redis holds %d keys+values, expected the session", len(dump))
	}
	for _, v := range dump {
		for _, s := range secrets {
			if strings.Contains(v, s) {
				t.Fatalf("Redis holds a secret (%d chars) in %.40q", len(s), v)
			}
			// Also no telling fragment (JWT payloads, base64 of the cookie).
			if len(s) > 40 && strings.Contains(v, s[len(s)-40:]) {
				t.Fatalf("Redis holds a fragment of a secret in %.40q", v)
			}
		}
	}
}
