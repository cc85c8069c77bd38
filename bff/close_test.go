package bff_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/leakcheck"
	"github.com/authbff/authbff/internal/redistest"
)

// TestCloseLeavesNoGoroutine: a BFF on Redis (so with the change feed, its
// presence renewals and acknowledgements) that signed a person in and out
// has, once Close returns, no goroutine of authbff left running, whether it
// opened the store itself or was handed one the host closes.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	srv := redistest.Start(t)
	for _, own := range []bool{true, false} {
		name := map[bool]string{true: "own store", false: "host's store"}[own]
		t.Run(name, func(t *testing.T) {
			before := leakcheck.Take()
			o := bff.Options{DevIdP: true, Logger: slog.New(slog.DiscardHandler)}
			var hostStore bff.Store
			if own {
				o.StoreSpec = srv.URL
			} else {
				s, err := bff.OpenStore(srv.URL)
				if err != nil {
					t.Fatal(err)
				}
				hostStore, o.Store = s, s
			}
			signInAndOut(t, o)
			if hostStore != nil {
				// The BFF is closed and does not close the host's store,
				// whose own acknowledgement subscription runs until the
				// host closes it: the BFF's watch has stopped all the same.
				leakcheck.Check(t, before, settle, leakcheck.RedisWatch...)
				if err := hostStore.Close(); err != nil {
					t.Fatal(err)
				}
			}
			leakcheck.Check(t, before, settle)
		})
	}
}

// settle is how long goroutines get to end after Close returned: the last
// steps of a goroutine that signalled it is done.
const settle = 2 * time.Second

// signInAndOut starts a BFF from o on a loopback server, signs a person in
// through the development IdP and out again, then closes the server and
// the BFF.
func signInAndOut(t *testing.T, o bff.Options) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	o.URL = base
	b, err := bff.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	cj, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	c := &http.Client{Jar: cj, Timeout: 10 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn(t, c, base)
	session := func() string {
		resp, err := c.Get(base + "/api/auth/session")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		u, _ := v["user"].(map[string]any)
		name, _ := u["name"].(string)
		return name
	}
	if got := session(); got != "Ada Lovelace" {
		t.Fatalf("signed in as %q", got)
	}
	resp, err := c.Get(base + "/api/auth/csrf")
	if err != nil {
		t.Fatal(err)
	}
	var csrf struct{ CsrfToken string }
	_ = json.NewDecoder(resp.Body).Decode(&csrf)
	resp.Body.Close()
	resp, err = c.PostForm(base+"/api/auth/signout", url.Values{"csrfToken": {csrf.CsrfToken}, "json": {"true"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	if got := session(); got != "" {
		t.Fatalf("still signed in as %q after signing out", got)
	}
	tr.CloseIdleConnections()
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil && !strings.Contains(err.Error(), "closed") {
		t.Fatal(err)
	}
}
