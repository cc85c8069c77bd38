package bff_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/redistest"
)

// startPanvaRS runs testdata/panvars/server.mjs (oidc-provider with
// resource indicators and client credentials) and returns its issuer.
func startPanvaRS(t *testing.T, env ...string) string {
	t.Helper()
	return runPanva(t, "testdata/panvars", "server.mjs", env...)
}

// panvaSignIn signs br in at app through oidc-provider's devInteractions
// (login, then consent).
func panvaSignIn(t *testing.T, br *provBrowser, app *provApp, login string) {
	t.Helper()
	resp, body := br.get(br.startSignIn(app, "panva", nil))
	for range 12 {
		if resp.StatusCode == http.StatusOK {
			action, form := panvaForm(t, string(body), login)
			req, _ := http.NewRequest(http.MethodPost, resp.Request.URL.ResolveReference(action).String(), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, body = br.do(req)
			continue
		}
		loc, _ := resp.Location()
		if loc == nil {
			t.Fatalf("oidc-provider answered %d: %s", resp.StatusCode, body)
		}
		if strings.HasPrefix(loc.String(), app.URL+"/api/auth/callback/") {
			if r, _ := br.get(loc.String()); r.StatusCode != http.StatusFound || strings.Contains(r.Header.Get("Location"), "error") {
				t.Fatalf("callback: %d %s", r.StatusCode, r.Header.Get("Location"))
			}
			return
		}
		resp, body = br.get(loc.String())
	}
	t.Fatal("oidc-provider never redirected back")
}

// grantsMetric reads authbff_upstream_token_grants_total for upstream,
// kind and result "ok" from app's /metrics.
func grantsMetric(t *testing.T, app *provApp, upstream, kind string) int {
	t.Helper()
	rec := httptest.NewRecorder()
	app.BFF.AdminHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	want := `authbff_upstream_token_grants_total{kind="` + kind + `",result="ok",upstream="` + upstream + `"} `
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, want); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return 0
}

// TestPanvaResourceIndicators (issue 22) at panva's oidc-provider with
// resource indicators and client credentials, two instances on one Redis:
// a and b each receive only JWT access tokens whose aud is their own
// resource; with a's token due, 200 concurrent calls through both
// instances cause exactly one grant for (session, a) and no sign-out; c
// (TOKEN=client) receives a client credentials token (sub is the client),
// one grant per instance for 100 calls; d (user-or-client) gets the
// client's token signed out and the user's signed in.
func TestPanvaResourceIndicators(t *testing.T) {
	redistest.SkipShort(t)
	srv := redistest.Start(t)
	a, b := newAudEcho(t, "https://a.example"), newAudEcho(t, "https://b.example")
	c, d := newAudEcho(t, "https://c.example"), newAudEcho(t, "https://d.example")
	ln1, ln2 := listenRS(t), listenRS(t)
	const clientID, secret = "authbff-rs", "rs-secret-0123"
	iss := startPanvaRS(t, "CLIENT_ID="+clientID, "CLIENT_SECRET="+secret, "ACCESS_TTL=63",
		"REDIRECT_URI=http://"+ln1.Addr().String()+"/api/auth/callback/panva",
		"RESOURCES=https://a.example,https://b.example,https://c.example,https://d.example")
	env := map[string]string{
		"AUTH_PANVA_ISSUER": iss, "AUTH_PANVA_ID": clientID, "AUTH_PANVA_SECRET": secret,
		"AUTH_PANVA_SCOPE": "openid profile api:read", "SESSION_STORE": srv.URL, "AUTH_REFRESH_MARGIN": "60s",
		"UPSTREAM_A": a.URL(), "UPSTREAM_A_RESOURCE": "https://a.example", "UPSTREAM_A_SCOPE": "api:read",
		"UPSTREAM_B": b.URL(), "UPSTREAM_B_RESOURCE": "https://b.example", "UPSTREAM_B_SCOPE": "api:read",
		"UPSTREAM_C": c.URL(), "UPSTREAM_C_RESOURCE": "https://c.example", "UPSTREAM_C_SCOPE": "api:read", "UPSTREAM_C_TOKEN": "client",
		"UPSTREAM_D": d.URL(), "UPSTREAM_D_RESOURCE": "https://d.example", "UPSTREAM_D_SCOPE": "api:read", "UPSTREAM_D_TOKEN": "user-or-client",
	}
	app1, app2 := startProvOn(t, env, ln1), startProvOn(t, env, ln2)

	anon := newProvBrowser(t)
	if m := mustEcho(t, anon, app1, "d/x"); m["sub"] != clientID {
		t.Fatalf("d signed out: %v, want the client's token", m)
	}
	br := newProvBrowser(t)
	panvaSignIn(t, br, app1, "alice")
	if m := mustEcho(t, br, app1, "a/x"); m["aud"] != "https://a.example" || m["sub"] != "alice" {
		t.Fatalf("a saw %v", m)
	}
	if m := mustEcho(t, br, app2, "b/x"); m["aud"] != "https://b.example" || m["sub"] != "alice" {
		t.Fatalf("b saw %v", m)
	}
	if m := mustEcho(t, br, app2, "d/x"); m["sub"] != "alice" || m["aud"] != "https://d.example" {
		t.Fatalf("d signed in: %v, want the user's token", m)
	}
	// a's token (63 s) is within the 60 s margin after 3 s: due.
	time.Sleep(3 * time.Second)
	before := grantsMetric(t, app1, "a", "user") + grantsMetric(t, app2, "a", "user")
	var wg sync.WaitGroup
	fails := make(chan string, 300)
	call := func(app *provApp, path string, want map[string]any) {
		defer wg.Done()
		req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/proxy/"+path, nil)
		req.Header.Set("X-CSRF", "1")
		req.Header.Set("Origin", app.URL)
		resp, body := br.do(req)
		if resp.StatusCode != 200 {
			fails <- path + ": " + resp.Status + " " + string(body)
			return
		}
		for k, v := range want {
			if !strings.Contains(string(body), `"`+k+`":"`+v.(string)+`"`) {
				fails <- path + ": " + string(body)
			}
		}
	}
	for i := range 200 {
		wg.Add(1)
		go call([]*provApp{app1, app2}[i%2], "a/x", map[string]any{"aud": "https://a.example"})
	}
	for i := range 100 {
		wg.Add(1)
		go call([]*provApp{app1, app2}[i%2], "c/x", map[string]any{"sub": clientID, "aud": "https://c.example"})
	}
	wg.Wait()
	close(fails)
	for f := range fails {
		t.Fatalf("a call failed: %s", f)
	}
	if n := grantsMetric(t, app1, "a", "user") + grantsMetric(t, app2, "a", "user") - before; n != 1 {
		t.Fatalf("refresh grants for (session, a) = %d, want exactly 1", n)
	}
	if n1, n2 := grantsMetric(t, app1, "c", "client"), grantsMetric(t, app2, "c", "client"); n1 != 1 || n2 != 1 {
		t.Fatalf("client credentials grants for c = %d and %d, want one per instance", n1, n2)
	}
	for _, aud := range a.seenAuds() {
		if aud != "https://a.example" {
			t.Fatalf("a received a token for %q", aud)
		}
	}
	for _, aud := range b.seenAuds() {
		if aud != "https://b.example" {
			t.Fatalf("b received a token for %q", aud)
		}
	}
	if br.sessionUser(app1) == nil || br.sessionUser(app2) == nil {
		t.Fatal("signed out")
	}
}
