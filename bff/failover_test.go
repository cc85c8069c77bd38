package bff_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/redistest"
)

// haBackWithin is how soon after a replica's promotion every read and
// sign-in must succeed again (issue 11).
const haBackWithin = 5 * time.Second

// haStoreParams are short store timeouts for the fail-over tests.
const haStoreParams = "?op_timeout=500ms&dial_timeout=200ms"

// haPreKill is how many sessions are signed in before the master dies.
const haPreKill = 9

// The two fail-over tests do not run in parallel (with each other or
// anything else): on a loaded machine the race detector and the other
// test's six Redis processes would eat into the 5 s recovery bound.

// TestFailoverClusterMasterKilled (issue 11 #1): two instances on a Redis
// Cluster; while session reads and sign-ins run, the master holding some of
// the sessions is SIGKILLed. Within 5 s of its replica's promotion every
// read and sign-in succeeds again, no session is lost, no answer clears
// the session cookie, and in the meantime a live session is only ever
// answered 200 with its user or 503 with Retry-After (never 200 {}).
func TestFailoverClusterMasterKilled(t *testing.T) {
	cl := redistest.StartCluster(t, redistest.ClusterOptions{})
	c := newHACluster(t, cl.URL+haStoreParams)
	h := newHAClient()
	kept := signInMany(t, c, h, haPreKill)
	cl.WaitReplicated() // the kept sessions are on the replicas too
	victim := cl.MasterOf(kept[0].storeKey())
	onVictim := 0
	for _, s := range kept {
		if cl.MasterOf(s.storeKey()) == victim {
			onVictim++
		}
	}
	t.Logf("%d of %d kept sessions live on master %s", onVictim, len(kept), victim)

	l := startHALoad(c, h, kept, 2)
	time.Sleep(500 * time.Millisecond)
	killed := time.Now()
	dead := cl.KillMaster(kept[0].storeKey())
	promoted, at := cl.WaitPromoted(dead, 20*time.Second)
	t.Logf("master %s killed; replica %s promoted", dead, promoted)
	time.Sleep(time.Until(at.Add(haBackWithin + time.Second)))
	after := checkFailover(t, l.finish(), h, killed, at, haBackWithin)
	checkAllSignedIn(t, c, h, "pre-kill", kept)
	checkAllSignedIn(t, c, h, "post-kill", after)
	checkReady(t, c)
}

// TestFailoverSentinelMasterKilled is TestFailoverClusterMasterKilled for a
// master with two replicas and three Sentinels: the master holds every
// session.
func TestFailoverSentinelMasterKilled(t *testing.T) {
	sg := redistest.StartSentinel(t, redistest.SentinelOptions{})
	c := newHACluster(t, sg.URL+haStoreParams)
	h := newHAClient()
	kept := signInMany(t, c, h, haPreKill)
	sg.WaitReplicated()

	l := startHALoad(c, h, kept, 2)
	time.Sleep(500 * time.Millisecond)
	killed := time.Now()
	dead := sg.KillMaster()
	promoted, at := sg.WaitPromoted(dead, 20*time.Second)
	// When the Sentinels start naming the new master (clients follow then).
	for sg.Master() == dead && time.Since(at) < haBackWithin {
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("master %s killed; replica %s promoted; a Sentinel names %s %v after the promotion",
		dead, promoted, sg.Master(), time.Since(at).Round(10*time.Millisecond))
	time.Sleep(time.Until(at.Add(haBackWithin + time.Second)))
	after := checkFailover(t, l.finish(), h, killed, at, haBackWithin)
	checkAllSignedIn(t, c, h, "pre-kill", kept)
	checkAllSignedIn(t, c, h, "post-kill", after)
	checkReady(t, c)
}

// signInMany signs n sessions in over the demo users, alternating the
// instance a sign-in starts and finishes on.
func signInMany(t *testing.T, c *haCluster, h *haClient, n int) []haSession {
	t.Helper()
	out := make([]haSession, n)
	for i := range out {
		from, to := "a", "b"
		if i%2 == 1 {
			from, to = "b", "a"
		}
		s, err := h.signIn(c, from, to, haUsers[i%len(haUsers)])
		if err != nil {
			t.Fatalf("sign-in %d before the kill: %v", i, err)
		}
		out[i] = s
	}
	return out
}

// checkReady asserts both instances' /readyz answers 200.
func checkReady(t *testing.T, c *haCluster) {
	t.Helper()
	for _, backend := range []string{"a", "b"} {
		r, err := newHAClient().do(nil, http.MethodGet, c.URL+"/readyz", backend, nil)
		if err != nil || r.status != http.StatusOK {
			t.Errorf("readyz on %s at the end: %d %q %v", backend, r.status, r.body, err)
		}
	}
}

// TestFailoverHungRedis (issue 11 #2): with Redis SIGSTOPped (connections
// accepted, nothing answered) and the default store timeouts, a session
// read answers 503 with Retry-After within 2 s, the cookie kept, and
// /readyz (public port and metrics listener) 503 within 2 s; after SIGCONT
// the same cookie is signed in again.
func TestFailoverHungRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	app := startApp(t, bffEnv(t, "SESSION_STORE", srv.URL)) // default op_timeout
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	if b.Session(app.URL) == nil {
		t.Fatal("not signed in")
	}
	srv.SigStop()
	stopped := time.Now()
	defer srv.SigCont() // (cleanup resumes it too)
	// The cached copy is served only while the change feed proves itself
	// current (feed_lease, 500 ms): once that lapses the read below must
	// ask the hung store.
	time.Sleep(700 * time.Millisecond)

	var wg sync.WaitGroup
	var sess, ready, admin response
	var sessTook, readyTook, adminTook time.Duration
	timed := func(took *time.Duration, into *response, u string) {
		wg.Go(func() {
			start := time.Now()
			*into = fetchRaw(t, u)
			*took = time.Since(start)
		})
	}
	tok := b.SessionCookie(app.URL)
	began := time.Now()
	wg.Go(func() {
		start := time.Now()
		req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/auth/session", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: tok})
		sess = doRaw(t, req)
		sessTook = time.Since(start)
	})
	timed(&readyTook, &ready, app.URL+"/readyz")
	timed(&adminTook, &admin, app.AdminURL+"/readyz")
	wg.Wait()
	t.Logf("Redis SIGSTOPped: session read %d in %v, /readyz %d in %v, metrics /readyz %d in %v (all started %v after SIGSTOP)",
		sess.StatusCode, sessTook.Round(time.Millisecond), ready.StatusCode, readyTook.Round(time.Millisecond),
		admin.StatusCode, adminTook.Round(time.Millisecond), began.Sub(stopped).Round(time.Millisecond))
	var v map[string]any
	if sess.StatusCode != http.StatusServiceUnavailable || sess.Header.Get("Retry-After") == "" ||
		json.Unmarshal([]byte(sess.Body), &v) != nil || v["error"] == nil {
		t.Errorf("session read with Redis hung: %d Retry-After=%q %s", sess.StatusCode, sess.Header.Get("Retry-After"), sess.Body)
	}
	if sessTook > 2*time.Second {
		t.Errorf("session read took %v with Redis hung, want at most 2s", sessTook)
	}
	if ck := cookieNamed(sess.Cookies(), sessionCookie); ck != nil {
		t.Errorf("the 503 touched the session cookie: %v", ck)
	}
	for _, r := range []struct {
		name string
		resp response
		took time.Duration
	}{{"/readyz", ready, readyTook}, {"metrics /readyz", admin, adminTook}} {
		if r.resp.StatusCode != http.StatusServiceUnavailable || r.took > 2*time.Second {
			t.Errorf("%s with Redis hung: %d after %v, want 503 within 2s (%s)", r.name, r.resp.StatusCode, r.took, r.resp.Body)
		}
	}

	srv.SigCont()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := b.Get(app.URL + "/api/auth/session")
		if r.StatusCode == http.StatusOK && strings.Contains(r.Body, "ada@example.com") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after SIGCONT: session %d %s", r.StatusCode, r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := b.Get(app.URL + "/readyz"); r.StatusCode != http.StatusOK {
		t.Fatalf("readyz after SIGCONT: %d %s", r.StatusCode, r.Body)
	}
}

// TestFailoverCallbackStoreOutage (issue 11 #5): a sign-in callback that
// meets a store outage answers a browser navigation with the HTML error
// page (503, Retry-After, a retry link), not raw JSON, and keeps the
// session cookie of the session the browser already has; a fetch of
// /api/auth/session at the same time gets 503 JSON {"error","message"}.
// When the store is back, that session is still signed in.
func TestFailoverCallbackStoreOutage(t *testing.T) {
	t.Parallel()
	srv := redistest.StartWithOptions(t, redistest.Options{Persist: true})
	app := startApp(t, bffEnv(t, "SESSION_STORE", srv.URL))
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	before := b.SessionCookie(app.URL)
	// A second sign-in (say, after a reload) up to the IdP's redirect: the
	// dev IdP remembers ada and redirects at once.
	authURL := b.StartSignIn(app.URL, "cognito", app.URL+"/protected")
	page := b.Get(authURL)
	if page.StatusCode == http.StatusOK {
		page = b.DevLogin(page, "ada")
	}
	cbURL := location(t, page)
	srv.Stop()

	req, _ := http.NewRequest(http.MethodGet, cbURL, nil)
	navigationHeaders(req)
	var cb, fetched response
	var wg sync.WaitGroup
	wg.Go(func() { cb = doWith(t, b.Client, req) })
	wg.Go(func() {
		f, _ := http.NewRequest(http.MethodGet, app.URL+"/api/auth/session", nil)
		f.Header.Set("Accept", "*/*")
		f.Header.Set("Sec-Fetch-Mode", "cors")
		f.Header.Set("Sec-Fetch-Dest", "empty")
		f.Header.Set("Sec-Fetch-Site", "same-origin")
		fetched = doWith(t, b.Client, f)
	})
	wg.Wait()

	if cb.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(cb.Header.Get("Content-Type"), "text/html") {
		t.Errorf("callback navigation with the store down: %d %q, want 503 text/html: %.300s", cb.StatusCode, cb.Header.Get("Content-Type"), cb.Body)
	}
	if cb.Header.Get("Retry-After") == "" {
		t.Error("callback navigation with the store down: no Retry-After")
	}
	if !strings.Contains(cb.Body, `id="retry"`) || !strings.Contains(cb.Body, `href="`+app.URL+`/"`) {
		t.Errorf("callback page has no retry link to %s/: %s", app.URL, cb.Body)
	}
	for _, r := range []response{cb, fetched} {
		if ck := cookieNamed(r.Cookies(), sessionCookie); ck != nil {
			t.Errorf("%s with the store down touched the session cookie: %v", r.Request.URL.Path, ck)
		}
	}
	var v map[string]string
	if fetched.StatusCode != http.StatusServiceUnavailable || fetched.Header.Get("Retry-After") == "" ||
		!strings.HasPrefix(fetched.Header.Get("Content-Type"), "application/json") ||
		json.Unmarshal([]byte(fetched.Body), &v) != nil || v["error"] == "" || v["message"] == "" {
		t.Errorf("session fetch with the store down: %d %q Retry-After=%q %s", fetched.StatusCode,
			fetched.Header.Get("Content-Type"), fetched.Header.Get("Retry-After"), fetched.Body)
	}
	if got := b.SessionCookie(app.URL); got != before {
		t.Fatal("the browser lost its session cookie")
	}

	srv.Restart()
	s := b.Session(app.URL)
	if u, _ := s["user"].(map[string]any); u["email"] != "ada@example.com" {
		t.Fatalf("session after the store came back = %v", s)
	}
}

// fetchRaw GETs u without a cookie.
func fetchRaw(t *testing.T, u string) response {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return doRaw(t, req)
}

// doRaw sends req with a plain client, see doWith.
func doRaw(t *testing.T, req *http.Request) response {
	return doWith(t, &http.Client{Timeout: 10 * time.Second}, req)
}

// doWith sends req with c; unlike browser.do it is safe off the test
// goroutine (an error is reported with t.Errorf and becomes an empty
// response).
func doWith(t *testing.T, c *http.Client, req *http.Request) response {
	resp, err := c.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", req.Method, req.URL, err)
		return response{Response: &http.Response{Header: http.Header{}, Request: req}}
	}
	defer resp.Body.Close()
	var sb strings.Builder
	_, _ = io.Copy(&sb, resp.Body)
	return response{Response: resp, Body: sb.String()}
}
