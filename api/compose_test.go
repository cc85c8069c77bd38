package api

import (
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/devidp/devidptest"
	"github.com/authbff/authbff/internal/redistest"
)

// TestTwoInstancesOneDevIdP is docker-compose.yml's story on loopback: one
// standalone development IdP (`authbff devidp`) configured as both
// instances' Cognito provider, one Redis. A session made on the first
// instance calls the demo API through the second: the second holds the
// first's tokens, issued by an IdP it trusts (each instance running its own
// IdP made this a 401).
func TestTwoInstancesOneDevIdP(t *testing.T) {
	rs := redistest.Start(t)
	idpLn := listenLoopback(t)
	addrA, addrB := "127.0.0.1:"+opsFreePort(t), "127.0.0.1:"+opsFreePort(t)
	urlA, urlB := "http://"+addrA, "http://"+addrB
	idp, err := devidp.New(devidp.Options{
		BaseURL: "http://" + idpLn.Addr().String(),
		Clients: []devidp.Client{{ID: "authbff-dev",
			RedirectURIs: []string{urlA + "/api/auth/callback/cognito", urlB + "/api/auth/callback/cognito"},
			LogoutURLs:   []string{urlA, urlB}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: idp, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(idpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { srv.Close() })
	env := func(url string) map[string]string {
		return map[string]string{
			"NEXTAUTH_URL": url, "NEXTAUTH_SECRET": "compose-secret-compose-secret-compose-0123",
			"SESSION_STORE": rs.URL, "COGNITO_CLIENT_ID": "authbff-dev", "COGNITO_ISSUER": idp.Issuer(),
			"UPSTREAM_DEMO": "http://" + idpLn.Addr().String() + "/demo-api",
		}
	}
	a := startAppOn(t, env(urlA), addrA)
	b := startAppOn(t, env(urlB), addrB)

	jar, _ := cookiejar.New(nil) // cookies are per host, not per port: one browser
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := devidptest.SignIn(c, a.URL, a.URL+"/", "ada")
	if err != nil {
		t.Fatal(err)
	}
	if loc := resp.Header.Get("Location"); loc != a.URL+"/" {
		t.Fatalf("sign-in on the first instance ended at %q", loc)
	}
	for _, base := range []string{a.URL, b.URL} {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/proxy/demo/me", nil)
		req.Header.Set("X-CSRF", "1") // as the SPA's fetchApi sends it
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "Hello from the demo API") {
			t.Errorf("%s/api/proxy/demo/me: %d %s, want 200 (one IdP for both instances)", base, resp.StatusCode, body)
		}
	}
}
