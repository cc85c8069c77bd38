package bff_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRedisOutage: with Redis down, session reads answer 503 with
// Retry-After (never "signed out"), the cookie is kept and /readyz says so;
// when Redis is back, the same cookie is signed in again.
func TestRedisOutage(t *testing.T) {
	c := newCluster(t, clusterOpts{persist: true})
	b := newBrowser(t)
	c.signIn(t, b, "a", "b")
	// Warm both instances' session caches just before the outage: a cached
	// copy must not hide it (the change feed going down empties the caches).
	for _, name := range []string{"a", "b"} {
		c.lb.use(name)
		if b.Session(c.URL) == nil {
			t.Fatal("not signed in")
		}
	}
	c.redis.Stop()
	for _, name := range []string{"a", "b"} {
		c.lb.use(name)
		// A cached copy may be served until the instance's presence lease
		// lapses (feed_lease, 500 ms: no sign-out can have been acknowledged
		// since): signed in, never signed out; then 503.
		r := b.Get(c.URL + "/api/auth/session")
		for end := time.Now().Add(3 * time.Second); r.StatusCode == http.StatusOK && time.Now().Before(end); {
			if !strings.Contains(r.Body, `"user"`) {
				t.Fatalf("session on %s with Redis down answered signed out: %s", name, r.Body)
			}
			time.Sleep(50 * time.Millisecond)
			r = b.Get(c.URL + "/api/auth/session")
		}
		if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" ||
			!strings.Contains(r.Body, `"error"`) {
			t.Fatalf("session on %s with Redis down: %d Retry-After=%q %s", name, r.StatusCode, r.Header.Get("Retry-After"), r.Body)
		}
		for _, sc := range r.Cookies() {
			if sc.Name == "next-auth.session-token" {
				t.Fatalf("503 touched the session cookie: %v", sc)
			}
		}
		if rr := b.Get(c.URL + "/readyz"); rr.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("readyz on %s with Redis down: %d %s", name, rr.StatusCode, rr.Body)
		}
	}
	c.redis.Restart()
	for _, name := range []string{"a", "b"} {
		c.lb.use(name)
		if rr := b.Get(c.URL + "/readyz"); rr.StatusCode != http.StatusOK {
			t.Fatalf("readyz on %s after restart: %d %s", name, rr.StatusCode, rr.Body)
		}
		s := b.Session(c.URL)
		if u, _ := s["user"].(map[string]any); u["email"] != "ada@example.com" {
			t.Fatalf("session on %s after Redis came back = %v", name, s)
		}
	}
}
