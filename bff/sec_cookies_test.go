package bff_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/authbff/authbff/bff"
)

// TestSessionCookieSameSiteStrict: AUTH_COOKIE_SAMESITE=strict sends the
// session cookie SameSite=Strict; every other cookie stays Lax.
func TestSessionCookieSameSiteStrict(t *testing.T) {
	for _, strict := range []bool{false, true} {
		op := newProvOP(t, nil)
		env := map[string]string{"AUTH_ACME_ISSUER": op.Issuer(), "AUTH_ACME_ID": "c", "AUTH_ACME_SECRET": "s"}
		if strict {
			env["AUTH_COOKIE_SAMESITE"] = "strict"
		}
		app := startProv(t, env)
		op.Claims = func(nonce string) map[string]any { return idClaims(op.Issuer(), "u1", "c", nonce, nil) }
		b := newProvBrowser(t)
		resp, _ := b.get(b.startSignIn(app, "acme", nil))
		resp, _ = b.get(resp.Header.Get("Location"))
		var session *http.Cookie
		for _, c := range resp.Cookies() {
			if strings.HasSuffix(c.Name, "session-token") {
				session = c
			} else if c.SameSite != http.SameSiteLaxMode {
				t.Errorf("strict=%v: cookie %s SameSite %v", strict, c.Name, c.SameSite)
			}
		}
		want := http.SameSiteLaxMode
		if strict {
			want = http.SameSiteStrictMode
		}
		if session == nil || session.SameSite != want || !session.HttpOnly {
			t.Fatalf("strict=%v: session cookie %+v", strict, session)
		}
		if b.sessionUser(app) == nil {
			t.Fatalf("strict=%v: not signed in", strict)
		}
	}
}

// TestCookieOptionsNamedByField: the cookie options' problems.
func TestCookieOptionsNamedByField(t *testing.T) {
	_, err := newBFF(bff.Options{URL: "http://localhost:3000", DevIdP: true, CookieSameSite: "none", CookiePrefix: "__Host-Http-"})
	for _, want := range []string{`CookieSameSite "none"`, `CookiePrefix "__Host-Http-" needs an https URL`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
