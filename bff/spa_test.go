package bff

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/session"
)

// TestGuardedPageIsPrivate (issue 19 C3): a PROTECTED_PATHS page served to a
// signed-in user says Cache-Control private (and no-cache); without a
// session the redirect is no-store; a public page stays no-cache.
func TestGuardedPageIsPrivate(t *testing.T) {
	bf, err := New(context.Background(), Options{
		URL: "http://localhost:3000", StoreSpec: "memory", DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler), SPA: mustSPA(t),
		Secrets:   []string{"0123456789abcdef0123456789abcdef"},
		Providers: []Provider{{ID: "okta", Issuer: "https://idp.example", ClientID: "x", ClientSecret: "y"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer bf.Close()
	tok, _, err := bf.core.Sessions().Create(context.Background(), session.Data{
		Provider: "okta", Subject: "u1", User: session.User{Name: "Ada"},
		Tokens: session.Tokens{AccessToken: "a", AccessExpiry: time.Now().Add(time.Hour)},
	}, session.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(bf.Handler())
	defer srv.Close()
	get := func(path string, signedIn bool) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Host = "localhost:3000"
		if signedIn {
			req.Header.Set("Cookie", "next-auth.session-token="+tok)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, tc := range []struct {
		path     string
		signedIn bool
		status   int
		cache    string
	}{
		{"/protected", true, http.StatusOK, "private, no-cache"},
		{"/protected/", true, http.StatusMovedPermanently, "private, no-cache"},
		{"/protected", false, http.StatusFound, "no-store"},
		{"/", true, http.StatusOK, "no-cache"},
	} {
		r := get(tc.path, tc.signedIn)
		if cc := r.Header.Get("Cache-Control"); r.StatusCode != tc.status || cc != tc.cache {
			t.Errorf("GET %s (signed in %v): %d Cache-Control %q, want %d %q", tc.path, tc.signedIn, r.StatusCode, cc, tc.status, tc.cache)
		}
		if tc.signedIn && strings.HasPrefix(tc.path, "/protected") && !strings.Contains(r.Header.Get("Cache-Control"), "private") {
			t.Errorf("GET %s: a page served only with a session is not private", tc.path)
		}
	}
}
