package bff_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/devidp/devidptest"
	"github.com/authbff/authbff/internal/session"
)

const sessionCookie = "next-auth.session-token"

// haUsers are the scale IdP's demo users, with their e-mail addresses.
var haUsers = [][2]string{{"ada", "ada@example.com"}, {"grace", "grace@example.com"}, {"alan", "alan@example.com"}}

// haCluster is two authbff instances ("a", "b") on one replicated Redis
// store (Cluster or Sentinel) and one scale IdP, behind one load balancer.
type haCluster struct {
	URL  string
	lb   *loadBalancer
	idp  *scaleIdP
	apps map[string]*testApp
}

func newHACluster(t *testing.T, storeURL string) *haCluster {
	t.Helper()
	c := &haCluster{lb: newLoadBalancer(t), apps: map[string]*testApp{}}
	c.URL = c.lb.srv.URL
	c.idp = newScaleIdP(t, c.URL)
	env := map[string]string{
		"COGNITO_CLIENT_ID":     scaleClientID,
		"COGNITO_CLIENT_SECRET": scaleSecret,
		"COGNITO_ISSUER":        c.idp.Issuer(),
		"NEXTAUTH_URL":          c.URL,
		"NEXTAUTH_SECRET":       scaleSecretNA,
		"SESSION_STORE":         storeURL,
		// The sign-in loop makes many sessions per demo user: none may be
		// evicted by the per-user cap, or it would look like a lost session.
		"AUTH_SESSION_MAX_PER_USER": "1000",
	}
	for _, name := range []string{"a", "b"} {
		app := startApp(t, env)
		c.apps[name] = app
		c.lb.add(name, "http://"+app.ln.Addr().String())
	}
	return c
}

// haSession is one signed-in browser session: its cookie and user.
type haSession struct {
	token  string
	email  string
	signed time.Time // when its callback started
}

// storeKey is the Redis key redisstore keeps the session under (default
// prefix, s:<sha256 of the token>).
func (s haSession) storeKey() string { return "authbff:s:" + session.IDFromToken(s.token) }

// haClient is a browser without t.Fatal, usable from any goroutine: every
// call returns an error instead. Each request goes to the backend named by
// its caller (the X-Backend header of the load balancer). Every answer that
// clears the session cookie is recorded in cleared.
type haClient struct {
	c       *http.Client
	mu      sync.Mutex
	cleared []string
}

func newHAClient() *haClient {
	h := &haClient{}
	h.c = &http.Client{
		Timeout:   15 * time.Second,
		Transport: roundTripFunc(h.roundTrip),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return h
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (h *haClient) roundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie && (ck.Value == "" || ck.MaxAge < 0) {
			h.mu.Lock()
			h.cleared = append(h.cleared, fmt.Sprintf("%s %s -> %d", r.Method, r.URL.Path, resp.StatusCode))
			h.mu.Unlock()
		}
	}
	return resp, nil
}

// clears returns the answers that cleared the session cookie so far.
func (h *haClient) clears() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.cleared)
}

// haAnswer is one HTTP answer, body read.
type haAnswer struct {
	status int
	header http.Header
	body   string
	resp   *http.Response
}

func (h *haClient) do(jar http.CookieJar, method, rawURL, backend string, form url.Values) (haAnswer, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		return haAnswer{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Backend", backend)
	if jar != nil {
		for _, ck := range jar.Cookies(req.URL) {
			req.AddCookie(ck)
		}
	}
	resp, err := h.c.Do(req)
	if err != nil {
		return haAnswer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return haAnswer{}, fmt.Errorf("%s %s: read body: %w", method, req.URL.Path, err)
	}
	if jar != nil {
		jar.SetCookies(req.URL, resp.Cookies())
	}
	return haAnswer{status: resp.StatusCode, header: resp.Header, body: string(b), resp: resp}, nil
}

// errOutage marks an answer that is acceptable only while the store is
// down: 503 with Retry-After, the cookie untouched.
var errOutage = errors.New("store outage answer")

// readSession reads the session of token on backend. It returns nil for
// 200 with the expected user, an error wrapping errOutage for 503 with
// Retry-After and an {"error"} body, and any other error for everything
// else (a 200 {} for a live session above all).
func (h *haClient) readSession(base, backend string, s haSession) error {
	req, _ := http.NewRequest(http.MethodGet, base+"/api/auth/session", nil)
	req.Header.Set("X-Backend", backend)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: s.token})
	resp, err := h.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v struct {
		User  struct{ Email string }
		Error string
	}
	jerr := json.Unmarshal(b, &v)
	switch {
	case resp.StatusCode == http.StatusOK && jerr == nil && v.User.Email == s.email:
		return nil
	case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" && jerr == nil && v.Error != "":
		return fmt.Errorf("%w: %d %s", errOutage, resp.StatusCode, b)
	}
	return fmt.Errorf("session on %s: %d %q", backend, resp.StatusCode, b)
}

// signIn signs user in through the scale IdP's login page, started on
// instance from and finished (callback) on to. An outage answer of the
// callback (503 with Retry-After) wraps errOutage; any other failure of
// any step is another error.
func (h *haClient) signIn(c *haCluster, from, to string, user [2]string) (haSession, error) {
	jar, _ := cookiejar.New(nil)
	r, err := h.do(jar, http.MethodGet, c.URL+"/api/auth/csrf", from, nil)
	if err != nil {
		return haSession{}, err
	}
	var csrf struct{ CsrfToken string }
	if json.Unmarshal([]byte(r.body), &csrf) != nil || csrf.CsrfToken == "" {
		return haSession{}, fmt.Errorf("csrf on %s: %d %q", from, r.status, r.body)
	}
	r, err = h.do(jar, http.MethodPost, c.URL+"/api/auth/signin/cognito", from, url.Values{
		"csrfToken": {csrf.CsrfToken}, "callbackUrl": {c.URL + "/"}, "json": {"true"},
	})
	if err != nil {
		return haSession{}, err
	}
	var start struct{ URL string }
	if json.Unmarshal([]byte(r.body), &start) != nil || r.status != 200 || start.URL == "" {
		return haSession{}, fmt.Errorf("signin on %s: %d %q", from, r.status, r.body)
	}
	page, err := h.do(jar, http.MethodGet, start.URL, "", nil)
	if err != nil {
		return haSession{}, err
	}
	cbURL, err := h.devLogin(jar, page, user[0])
	if err != nil {
		return haSession{}, err
	}
	signed := time.Now()
	req, _ := http.NewRequest(http.MethodGet, cbURL, nil)
	req.Header.Set("X-Backend", to)
	navigationHeaders(req)
	for _, ck := range jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	resp, err := h.c.Do(req)
	if err != nil {
		return haSession{}, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusFound && resp.Header.Get("Location") == c.URL+"/":
		ck := cookieNamed(resp.Cookies(), sessionCookie)
		if ck == nil || ck.Value == "" {
			return haSession{}, fmt.Errorf("callback on %s: 302 without a session cookie", to)
		}
		return haSession{token: ck.Value, email: user[1], signed: signed}, nil
	case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" &&
		strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html"):
		return haSession{}, fmt.Errorf("%w: callback on %s: 503", errOutage, to)
	}
	return haSession{}, fmt.Errorf("callback on %s: %d Location=%q %.200q", to, resp.StatusCode, resp.Header.Get("Location"), body)
}

// devLogin posts the dev IdP login form of user and returns the IdP's
// redirect, the callback URL.
func (h *haClient) devLogin(jar http.CookieJar, page haAnswer, user string) (string, error) {
	if page.status != 200 || !strings.Contains(page.body, "login-"+user) {
		return "", fmt.Errorf("dev IdP login page: %d %.200q", page.status, page.body)
	}
	action, form, err := devidptest.LoginForm(page.resp.Request.URL, page.body, user)
	if err != nil {
		return "", err
	}
	r, err := h.do(jar, http.MethodPost, action, "", form)
	if err != nil {
		return "", err
	}
	if r.status != http.StatusFound && r.status != http.StatusSeeOther {
		return "", fmt.Errorf("dev IdP login: %d %.200q", r.status, r.body)
	}
	loc, err := r.resp.Request.URL.Parse(r.header.Get("Location"))
	if err != nil {
		return "", err
	}
	return loc.String(), nil
}

// navigationHeaders makes req look like a browser's top-level navigation.
func navigationHeaders(req *http.Request) {
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Sec-Fetch-Dest", "document")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Upgrade-Insecure-Requests", "1")
}

// haResult is the outcome of one request of the load.
type haResult struct {
	kind       string // "read" or "signin"
	start, end time.Time
	err        error // nil: success; errOutage: acceptable during the outage
	signed     *haSession
}

// haLoad runs session reads of the kept sessions (alternating instances)
// and new sign-ins (started on one instance, finished on the other) until
// stopped, recording every outcome.
type haLoad struct {
	c    *haCluster
	h    *haClient
	kept []haSession
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	results []haResult
}

func startHALoad(c *haCluster, h *haClient, kept []haSession, readers int) *haLoad {
	l := &haLoad{c: c, h: h, kept: kept, stop: make(chan struct{})}
	for r := range readers {
		l.wg.Go(func() {
			for i := r; ; i++ {
				if l.stopped() {
					return
				}
				s := kept[i%len(kept)]
				backend := []string{"a", "b"}[(i/len(kept)+i)%2]
				start := time.Now()
				err := h.readSession(c.URL, backend, s)
				l.add(haResult{kind: "read", start: start, end: time.Now(), err: err})
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	l.wg.Go(func() {
		for i := 0; ; i++ {
			if l.stopped() {
				return
			}
			from, to := "a", "b"
			if i%2 == 1 {
				from, to = "b", "a"
			}
			start := time.Now()
			s, err := h.signIn(c, from, to, haUsers[i%len(haUsers)])
			res := haResult{kind: "signin", start: start, end: time.Now(), err: err}
			if err == nil {
				res.signed = &s
			}
			l.add(res)
			time.Sleep(30 * time.Millisecond)
		}
	})
	return l
}

func (l *haLoad) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *haLoad) add(r haResult) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.results = append(l.results, r)
}

// finish stops the load and returns every outcome.
func (l *haLoad) finish() []haResult {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.results)
}

// checkFailover asserts issue 11's fail-over promises on the outcomes of a
// load during which a master was killed at killed and a replica promoted at
// promoted: no answer was ever anything but a success or (from the kill
// on) an outage 503; every request started later than backWithin after the
// promotion succeeded, and there were such requests of each kind; no
// answer cleared the session cookie. It returns the sessions signed in
// after the kill, and logs the measured times.
func checkFailover(t *testing.T, results []haResult, h *haClient, killed, promoted time.Time, backWithin time.Duration) []haSession {
	t.Helper()
	type stats struct {
		ok, outage, late     int
		lastFail, firstAfter time.Time
		okAfterWindow        int
	}
	per := map[string]*stats{"read": {}, "signin": {}}
	var after []haSession
	hard := 0
	for _, r := range results {
		st := per[r.kind]
		switch {
		case r.err == nil:
			st.ok++
			if r.start.After(promoted.Add(backWithin)) {
				st.okAfterWindow++
			}
			if r.signed != nil && r.start.After(killed) {
				after = append(after, *r.signed)
			}
			continue
		case errors.Is(r.err, errOutage) && !r.start.Before(killed.Add(-time.Second)):
			// (A request may begin just before the kill and meet it.)
			st.outage++
		default:
			hard++
			if hard <= 10 {
				t.Errorf("%s at kill%+v: unacceptable answer: %v", r.kind, r.start.Sub(killed).Round(time.Millisecond), r.err)
			}
			continue
		}
		if r.end.After(st.lastFail) {
			st.lastFail = r.end
		}
		if r.start.After(promoted.Add(backWithin)) {
			st.late++
			if st.late <= 5 {
				t.Errorf("%s started %v after the promotion still failed: %v", r.kind, r.start.Sub(promoted).Round(time.Millisecond), r.err)
			}
		}
	}
	if hard > 10 {
		t.Errorf("... %d unacceptable answers in all", hard)
	}
	t.Logf("promotion %v after the kill", promoted.Sub(killed).Round(time.Millisecond))
	for _, kind := range []string{"read", "signin"} {
		st := per[kind]
		last := "none"
		if !st.lastFail.IsZero() {
			last = fmt.Sprintf("%v after the promotion (%v after the kill)",
				st.lastFail.Sub(promoted).Round(time.Millisecond), st.lastFail.Sub(killed).Round(time.Millisecond))
		}
		t.Logf("%ss: %d ok, %d outage answers (503 + Retry-After), last failure %s", kind, st.ok, st.outage, last)
		if st.okAfterWindow == 0 {
			t.Errorf("no %s started more than %v after the promotion: recovery not shown", kind, backWithin)
		}
	}
	if cl := h.clears(); len(cl) > 0 {
		t.Errorf("%d answers cleared the session cookie, e.g. %v", len(cl), cl[:min(5, len(cl))])
	}
	return after
}

// checkAllSignedIn asserts that every session is served with its user by
// both instances.
func checkAllSignedIn(t *testing.T, c *haCluster, h *haClient, what string, ss []haSession) {
	t.Helper()
	lost := 0
	for _, s := range ss {
		for _, backend := range []string{"a", "b"} {
			if err := h.readSession(c.URL, backend, s); err != nil {
				lost++
				if lost <= 5 {
					t.Errorf("%s session (signed in at %s) on %s: %v", what, s.signed.Format("15:04:05.000"), backend, err)
				}
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d reads of %d %s sessions failed", lost, 2*len(ss), len(ss), what)
	}
}
