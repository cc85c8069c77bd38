package bff_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/session"
)

// TestSignOutIsNeverStaleOnTheOtherInstance (issue 11 #3): 100 sign-outs on
// instance A, each followed at once by a read on instance B that had the
// session cached: B never serves an ended session.
func TestSignOutIsNeverStaleOnTheOtherInstance(t *testing.T) {
	c := newCluster(t, clusterOpts{env: map[string]string{"AUTH_FEDERATED_SIGNOUT": "0"}})
	a := core(c.apps["a"].BFF)
	ctx := context.Background()
	u := mustURL(t, c.URL)
	stale := 0
	for i := range 100 {
		tok, _, err := a.Sessions().Create(ctx, session.Data{
			Provider: "cognito", Issuer: c.idp.Issuer(), Subject: fmt.Sprintf("user-%d", i),
			User:   session.User{Name: "User"},
			Tokens: session.Tokens{AccessToken: "at", AccessExpiry: time.Now().Add(time.Hour)},
		}, session.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t)
		b.Client.Jar.SetCookies(u, []*http.Cookie{{Name: "next-auth.session-token", Value: tok, Path: "/"}})
		c.lb.use("b")
		if b.Session(c.URL) == nil { // B now has it cached
			t.Fatalf("round %d: B does not see the new session", i)
		}
		c.lb.use("a")
		csrf := b.CSRF(c.URL)
		if r := b.PostForm(c.URL+"/api/auth/signout", url.Values{"csrfToken": {csrf}, "json": {"true"}}); r.StatusCode != 200 {
			t.Fatalf("round %d: sign-out on A: %d %s", i, r.StatusCode, r.Body)
		}
		kept := newBrowser(t) // a copy of the cookie the sign-out cleared
		kept.Client.Jar.SetCookies(u, []*http.Cookie{{Name: "next-auth.session-token", Value: tok, Path: "/"}})
		c.lb.use("b")
		if kept.Session(c.URL) != nil {
			stale++
		}
	}
	if stale != 0 {
		t.Fatalf("%d of 100 reads on B right after the sign-out on A served the ended session", stale)
	}
}
