package bff_test

import (
	"net/url"
	"testing"
)

// TestRefreshIdPOutageKeepsSession: a transient refresh failure keeps the
// session, shows session.error, and is not retried on every read.
func TestRefreshIdPOutageKeepsSession(t *testing.T) {
	c := newCluster(t, clusterOpts{env: map[string]string{"AUTH_REFRESH_ON_SESSION": "1"}})
	b := newBrowser(t)
	c.signIn(t, b, "a", "a")
	c.idp.gate.Down.Store(true)
	for range 10 {
		s := b.Session(c.URL)
		if s == nil || s["error"] != "RefreshAccessTokenError" {
			t.Fatalf("session during IdP outage = %v, want kept with error", s)
		}
	}
	c.lb.use("b") // the other instance sees the marker too
	if s := b.Session(c.URL); s == nil || s["error"] != "RefreshAccessTokenError" {
		t.Fatalf("session on b = %v", s)
	}
	if n := c.idp.gate.Attempts.Load(); n > 2 {
		t.Fatalf("%d refresh attempts during the outage, want at most one per instance (back-off)", n)
	}
}

// TestRefreshRevokedEndsSession: when the IdP refuses the refresh token
// (invalid_grant), the session ends: {} and the cookie is cleared.
func TestRefreshRevokedEndsSession(t *testing.T) {
	c := newCluster(t, clusterOpts{})
	b := newBrowser(t)
	c.signIn(t, b, "a", "a")
	var refreshTok string
	for _, s := range c.idp.gate.Issued() {
		if len(s) < 100 { // the dev IdP's refresh tokens are opaque and short; JWTs are long
			refreshTok = s
		}
	}
	c.idp.revoke(t, refreshTok)
	tok := b.CSRF(c.URL)
	c.lb.use("b")
	r := b.PostForm(c.URL+"/api/auth/session", url.Values{"csrfToken": {tok}})
	if r.StatusCode != 200 || r.Body != "{}" {
		t.Fatalf("POST /session after revocation: %d %s, want 200 {}", r.StatusCode, r.Body)
	}
	sc := cookieNamed(r.Cookies(), "next-auth.session-token")
	if sc == nil || sc.MaxAge >= 0 {
		t.Fatalf("session cookie not cleared: %v", sc)
	}
	c.lb.use("a")
	if s := b.Session(c.URL); s != nil {
		t.Fatalf("session on a after the refresh was refused = %v", s)
	}
}
