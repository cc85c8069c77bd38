package bff_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/redistest"
)

func mergeEnv(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func echoBody(t *testing.T, resp *http.Response, body []byte) map[string]any {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("proxy answered %d: %s", resp.StatusCode, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("echo: %s", body)
	}
	return m
}

// TestUpstreamTokenPerResource: with UPSTREAM_A_RESOURCE and
// UPSTREAM_B_RESOURCE, sign-in asks for both resources, and each upstream
// receives only tokens whose aud is its own resource (one narrowed refresh
// grant each, kept in the session); the rotated refresh token is kept (the
// second grant uses the first's rotated token, which the server checks).
func TestUpstreamTokenPerResource(t *testing.T) {
	as := newRSAS(t)
	a, b := newAudEcho(t, "https://a.example"), newAudEcho(t, "https://b.example")
	app := startProv(t, mergeEnv(as.env(), map[string]string{
		"UPSTREAM_A": a.URL(), "UPSTREAM_A_RESOURCE": "https://a.example",
		"UPSTREAM_B": b.URL(), "UPSTREAM_B_RESOURCE": "https://b.example",
	}))
	br := newProvBrowser(t)
	br.signIn(app, "okta", nil)
	if got := as.AuthReqs[len(as.AuthReqs)-1]["resource"]; !slices.Equal(got, []string{"https://a.example", "https://b.example"}) {
		t.Fatalf("authorization request resources = %v, want both upstreams'", got)
	}
	for i := 0; i < 3; i++ {
		if m := mustEcho(t, br, app, "a/x"); m["aud"] != "https://a.example" || m["sub"] != "alice" {
			t.Fatalf("a saw %v", m)
		}
		if m := mustEcho(t, br, app, "b/y"); m["aud"] != "https://b.example" || m["sub"] != "alice" {
			t.Fatalf("b saw %v", m)
		}
	}
	for _, aud := range a.seenAuds() {
		if aud != "https://a.example" {
			t.Fatalf("upstream a received a token for %q", aud)
		}
	}
	for _, aud := range b.seenAuds() {
		if aud != "https://b.example" {
			t.Fatalf("upstream b received a token for %q", aud)
		}
	}
	if n, m := as.grantCount("refresh_token", "https://a.example"), as.grantCount("refresh_token", "https://b.example"); n != 1 || m != 1 {
		t.Fatalf("refresh grants: a %d, b %d; want one each (then kept in the session)", n, m)
	}
	if br.sessionUser(app) == nil {
		t.Fatal("signed out")
	}
}

// TestUpstreamTokenRefusedResourceKeepsSession: a provider refusing an
// upstream's resource (invalid_target) answers 403 upstream_token_refused,
// never reaches the upstream, and costs the session nothing: the other
// upstream still gets its token with the same (rotated) refresh token.
func TestUpstreamTokenRefusedResourceKeepsSession(t *testing.T) {
	as := newRSAS(t)
	as.Deny = "https://c.example"
	a, c := newAudEcho(t, "https://a.example"), newAudEcho(t, "https://c.example")
	app := startProv(t, mergeEnv(as.env(), map[string]string{
		"UPSTREAM_A": a.URL(), "UPSTREAM_A_RESOURCE": "https://a.example",
		"UPSTREAM_C": c.URL(), "UPSTREAM_C_RESOURCE": "https://c.example",
	}))
	br := newProvBrowser(t)
	br.signIn(app, "okta", nil)
	mustEcho(t, br, app, "a/1") // rotates the refresh token once
	resp, body := proxyGet(br, app, "c/1")
	if resp.StatusCode != http.StatusForbidden || !json.Valid(body) || !strings.Contains(string(body), `"upstream_token_refused"`) {
		t.Fatalf("refused resource: %d %s", resp.StatusCode, body)
	}
	if c.seenCount() != 0 {
		t.Fatal("the upstream was called without a token for it")
	}
	if br.sessionUser(app) == nil {
		t.Fatal("a refused resource signed the user out")
	}
	as.ExpiresIn.Store(3600)
	// A forced new token for a (as after a 401) uses the stored, rotated refresh token.
	a.setResource("https://nobody.example") // one 401, then a new grant, then 401 again: answered as is
	resp, _ = proxyGet(br, app, "a/2")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a after rejecting: %d", resp.StatusCode)
	}
	if n := as.grantCount("refresh_token", "https://a.example"); n != 2 {
		t.Fatalf("a's refresh grants = %d, want 2 (the first and one retry after the 401)", n)
	}
	a.setResource("https://a.example")
	mustEcho(t, br, app, "a/3")
	if br.sessionUser(app) == nil {
		t.Fatal("signed out")
	}
}

func bytesContains(b []byte, s string) bool {
	return len(b) >= len(s) && string(b) != "" && contains(string(b), s)
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestUpstreamClientToken: UPSTREAM_C_TOKEN=client sends authbff's own
// client credentials token (sub is the client), one grant for 100
// concurrent calls; a session is still required.
func TestUpstreamClientToken(t *testing.T) {
	as := newRSAS(t)
	c := newAudEcho(t, "https://c.example")
	app := startProv(t, mergeEnv(as.env(), map[string]string{
		"UPSTREAM_C": c.URL(), "UPSTREAM_C_TOKEN": "client", "UPSTREAM_C_RESOURCE": "https://c.example",
	}))
	br := newProvBrowser(t)
	if resp, _ := proxyGet(br, app, "c/x"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("signed out: %d, want 401", resp.StatusCode)
	}
	br.signIn(app, "okta", nil)
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/proxy/c/x", nil)
			req.Header.Set("X-CSRF", "1")
			req.Header.Set("Origin", app.URL)
			resp, err := br.hc.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			if resp.StatusCode != 200 || m["sub"] != rsClientID || m["aud"] != "https://c.example" {
				errs <- resp.Status
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("a call failed: %s", e)
	}
	if n := as.grantCount("client_credentials", "https://c.example"); n != 1 {
		t.Fatalf("client credentials grants = %d, want 1", n)
	}
}

// TestUpstreamUserOrClient: signed out the upstream gets the client's
// token, signed in the user's.
func TestUpstreamUserOrClient(t *testing.T) {
	as := newRSAS(t)
	d := newAudEcho(t, "https://d.example")
	app := startProv(t, mergeEnv(as.env(), map[string]string{
		"UPSTREAM_D": d.URL(), "UPSTREAM_D_TOKEN": "user-or-client", "UPSTREAM_D_RESOURCE": "https://d.example",
	}))
	br := newProvBrowser(t)
	if m := mustEcho(t, br, app, "d/x"); m["sub"] != rsClientID {
		t.Fatalf("signed out: %v, want the client's token", m)
	}
	br.signIn(app, "okta", nil)
	if m := mustEcho(t, br, app, "d/x"); m["sub"] != "alice" || m["aud"] != "https://d.example" {
		t.Fatalf("signed in: %v, want the user's token", m)
	}
}

// TestUpstreamNoneAndWrongProvider: UPSTREAM_<NAME>_TOKEN=none sends no
// Authorization; UPSTREAM_<NAME>_PROVIDER refuses a session of another
// provider with 401 wrong_provider before the upstream.
func TestUpstreamNoneAndWrongProvider(t *testing.T) {
	as := newRSAS(t)
	n, e := newAudEcho(t, ""), newAudEcho(t, "")
	app := startProv(t, mergeEnv(as.env(), map[string]string{
		"AUTH_OTHER_ISSUER": as.Issuer(), "AUTH_OTHER_ID": rsClientID, "AUTH_OTHER_SECRET": rsClientSecret,
		"UPSTREAM_N": n.URL(), "UPSTREAM_N_TOKEN": "none",
		"UPSTREAM_E": e.URL(), "UPSTREAM_E_PROVIDER": "other",
	}))
	br := newProvBrowser(t)
	if resp, _ := proxyGet(br, app, "n/x"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("none, signed out: %d, want 401 (a session is still required)", resp.StatusCode)
	}
	br.signIn(app, "okta", nil)
	if m := mustEcho(t, br, app, "n/x"); m["auth"] != false {
		t.Fatalf("none sent a token: %v", m)
	}
	resp, body := proxyGet(br, app, "e/x")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"error":"wrong_provider"`) {
		t.Fatalf("wrong provider: %d %s", resp.StatusCode, body)
	}
	if e.seenCount() != 0 {
		t.Fatal("the upstream was called")
	}
}

// TestUpstreamTokenOneRefreshAcrossInstances: with a's token due, 200
// concurrent calls through two instances sharing Redis cause exactly one
// refresh grant for (session, a), and nobody is signed out.
func TestUpstreamTokenOneRefreshAcrossInstances(t *testing.T) {
	redistest.SkipShort(t)
	srv := redistest.Start(t)
	as := newRSAS(t)
	a := newAudEcho(t, "https://a.example")
	env := mergeEnv(as.env(), map[string]string{
		"SESSION_STORE": srv.URL, "AUTH_REFRESH_MARGIN": "1s",
		"UPSTREAM_A": a.URL(), "UPSTREAM_A_RESOURCE": "https://a.example",
	})
	app1, app2 := startProv(t, env), startProv(t, env)
	br := newProvBrowser(t)
	br.signIn(app1, "okta", nil)
	as.ExpiresIn.Store(2)
	mustEcho(t, br, app1, "a/first")
	as.ExpiresIn.Store(3600)
	time.Sleep(1200 * time.Millisecond) // a's token is now due
	before := as.grantCount("refresh_token", "https://a.example")
	var wg sync.WaitGroup
	fails := make(chan string, 200)
	for i := 0; i < 200; i++ {
		app := []*provApp{app1, app2}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/proxy/a/x", nil)
			req.Header.Set("X-CSRF", "1")
			req.Header.Set("Origin", app.URL)
			resp, err := br.hc.Do(req)
			if err != nil {
				fails <- err.Error()
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				fails <- resp.Status
			}
		}()
	}
	wg.Wait()
	close(fails)
	for f := range fails {
		t.Fatalf("a call failed: %s", f)
	}
	if n := as.grantCount("refresh_token", "https://a.example") - before; n != 1 {
		t.Fatalf("refresh grants for (session, a) = %d, want exactly 1", n)
	}
	if br.sessionUser(app2) == nil || br.sessionUser(app1) == nil {
		t.Fatal("signed out")
	}
}

// mustEcho calls path through the proxy and returns the echo's JSON (200 required).
func mustEcho(t *testing.T, br *provBrowser, app *provApp, path string) map[string]any {
	t.Helper()
	resp, body := proxyGet(br, app, path)
	return echoBody(t, resp, body)
}
