package bff_test

// Two authbff instances sharing one real PostgreSQL (SESSION_STORE=
// postgres://...) behind real HTTP on loopback, with one dev IdP: what a
// session shows on one instance the other shows too, a sign-out on one is
// final on the other once answered, one refresh for any number of
// concurrent reads, and a database outage is a 503, never a sign-out.
// Self-contained: its helpers are in this file.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/devidp/devidptest"
	"github.com/authbff/authbff/internal/pgtest"
)

const (
	pgClientID = "authbff-pg"
	pgClientSc = "pg-client-secret-0123456789"
	pgSecret   = "pg-e2e-shared-secret-0123456789abcdef"
	// pgMargin is the instances' refresh margin: tokens handed out at
	// sign-in while pgIdP.short is set expire within it (the first read
	// refreshes), refreshed ones (1h) do not.
	pgMargin = 5 * time.Minute
)

// pgIdP is a dev IdP on its own loopback server, shared by the instances.
type pgIdP struct {
	*devidp.IdP
	srv     *httptest.Server
	short   atomic.Bool  // sign-in access tokens expire in 60 s
	refresh atomic.Int32 // refresh_token grants received
}

// pgPair is two instances, a and b, on one PostgreSQL and one IdP.
type pgPair struct {
	pg   *pgtest.Server
	idp  *pgIdP
	a, b string // base URLs
}

func newPgPair(t *testing.T) *pgPair {
	t.Helper()
	p := &pgPair{pg: pgtest.Start(t)}
	lns := make([]net.Listener, 2)
	bases := make([]string, 2)
	for i := range lns {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[i], bases[i] = ln, "http://"+ln.Addr().String()
	}
	p.a, p.b = bases[0], bases[1]
	p.idp = newPgIdP(t, bases)
	spec := p.pg.URLWith("schema=e2e", "op_timeout=1s")
	for i, ln := range lns {
		o := bff.Options{
			URL: bases[i], Secrets: []string{pgSecret}, StoreSpec: spec, RefreshMargin: pgMargin, RefreshOnSession: true,
			Providers: []bff.Provider{{ID: "cognito", Issuer: p.idp.Issuer(), ClientID: pgClientID, ClientSecret: pgClientSc, Cognito: true}},
			Logger:    slog.New(slog.DiscardHandler),
		}
		b, err := bff.New(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
			_ = b.Close()
		})
	}
	return p
}

func newPgIdP(t *testing.T, bases []string) *pgIdP {
	t.Helper()
	f := &pgIdP{}
	var h http.Handler
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth2/token" {
			h.ServeHTTP(w, r)
			return
		}
		_ = r.ParseForm()
		form := r.PostForm.Encode()
		r.Body, r.ContentLength = io.NopCloser(strings.NewReader(form)), int64(len(form))
		grant := r.PostForm.Get("grant_type")
		if grant == "refresh_token" {
			f.refresh.Add(1)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var v map[string]any
		if grant == "authorization_code" && f.short.Load() && rec.Code == 200 && json.Unmarshal(body, &v) == nil {
			v["expires_in"] = 60
			body, _ = json.Marshal(v)
		}
		for k, vs := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = vs
			}
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	}))
	t.Cleanup(f.srv.Close)
	var redirects, logouts []string
	for _, b := range bases {
		redirects = append(redirects, b+"/api/auth/callback/cognito")
		logouts = append(logouts, b, b+"/")
	}
	idp, err := devidp.New(devidp.Options{BaseURL: f.srv.URL,
		Clients: []devidp.Client{{ID: pgClientID, Secret: pgClientSc, RedirectURIs: redirects, LogoutURLs: logouts}}})
	if err != nil {
		t.Fatal(err)
	}
	f.IdP, h = idp, idp
	return f
}

// pgClient is a browser: a cookie jar (cookies ignore the port, so the
// session cookie set by a is sent to b) that does not follow redirects.
func pgClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func pgSignIn(t *testing.T, c *http.Client, base string) {
	t.Helper()
	done, err := devidptest.SignIn(c, base, "", "ada")
	if err != nil {
		t.Fatal(err)
	}
	if done.StatusCode != http.StatusFound || strings.Contains(done.Header.Get("Location"), "error") {
		t.Fatalf("callback: %d %s", done.StatusCode, done.Header.Get("Location"))
	}
}

func pgSignOut(t *testing.T, c *http.Client, base string) {
	t.Helper()
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
}

// pgRead is one GET /api/auth/session: its status, the user's name (""
// for a signed-out answer), Retry-After, and whether it cleared the
// session cookie.
type pgRead struct {
	status     int
	name       string
	body       string
	retryAfter string
	cleared    bool
	err        error
}

func pgSession(c *http.Client, base string) pgRead {
	resp, err := c.Get(base + "/api/auth/session")
	if err != nil {
		return pgRead{err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := pgRead{status: resp.StatusCode, body: string(b), retryAfter: resp.Header.Get("Retry-After")}
	var v struct{ User struct{ Name string } }
	if json.Unmarshal(b, &v) == nil {
		r.name = v.User.Name
	}
	for _, ck := range resp.Cookies() {
		if strings.Contains(ck.Name, "session-token") && (ck.MaxAge < 0 || ck.Value == "") {
			r.cleared = true
		}
	}
	return r
}

func TestPostgresTwoInstances(t *testing.T) {
	p := newPgPair(t)

	t.Run("signed in on a, signed in on b", func(t *testing.T) {
		c := pgClient()
		pgSignIn(t, c, p.a)
		if r := pgSession(c, p.b); r.status != 200 || r.name != "Ada Lovelace" {
			t.Fatalf("b: %d %q", r.status, r.body)
		}
	})

	t.Run("100 sign-outs on a, each read at once on b", func(t *testing.T) {
		stale := 0
		for i := range 100 {
			c := pgClient()
			pgSignIn(t, c, p.a)
			// b reads (and caches) the session first.
			if r := pgSession(c, p.b); r.name != "Ada Lovelace" {
				t.Fatalf("round %d: b before sign-out: %d %q", i, r.status, r.body)
			}
			// The jar keeps the cookie a clears: send it to b as a stale tab would.
			u, _ := url.Parse(p.a)
			cookies := c.Jar.Cookies(u)
			pgSignOut(t, c, p.a)
			stalec := pgClient()
			stalec.Jar.SetCookies(u, cookies)
			r := pgSession(stalec, p.b)
			if r.status != 200 || r.name != "" {
				stale++
				t.Errorf("round %d: b after a's sign-out answered %d %q", i, r.status, r.body)
			}
		}
		if stale != 0 {
			t.Fatalf("%d stale answers of 100", stale)
		}
	})

	t.Run("200 concurrent reads with the token due refresh once", func(t *testing.T) {
		p.idp.short.Store(true)
		defer p.idp.short.Store(false)
		c := pgClient()
		pgSignIn(t, c, p.a)
		before := p.idp.refresh.Load()
		var wg sync.WaitGroup
		var bad atomic.Int32
		start := make(chan struct{})
		for i := range 200 {
			base := p.a
			if i%2 == 1 {
				base = p.b
			}
			wg.Go(func() {
				<-start
				if r := pgSession(c, base); r.status != 200 || r.name != "Ada Lovelace" {
					bad.Add(1)
					t.Errorf("read on %s: %d %q %v", base, r.status, r.body, r.err)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := p.idp.refresh.Load() - before; n != 1 {
			t.Fatalf("%d refresh grants for 200 concurrent reads on two instances, want 1", n)
		}
		if bad.Load() > 0 {
			t.Fatalf("%d reads failed", bad.Load())
		}
	})
}

// readLoop reads the session on base every 20 ms until stop, recording
// every answer with its time.
type pgSample struct {
	at time.Time
	r  pgRead
}

func readLoop(c *http.Client, base string, stop <-chan struct{}) <-chan []pgSample {
	out := make(chan []pgSample, 1)
	go func() {
		var s []pgSample
		for {
			select {
			case <-stop:
				out <- s
				return
			case <-time.After(20 * time.Millisecond):
			}
			s = append(s, pgSample{time.Now(), pgSession(c, base)})
		}
	}()
	return out
}

// checkFaultAnswers fails t for any answer that signs the person out (200
// without a user, a cleared cookie) or is a 503 without Retry-After, and
// returns how many 503s there were and the last failed answer's time.
func checkFaultAnswers(t *testing.T, samples []pgSample) (unavailable int, lastBad time.Time) {
	t.Helper()
	for _, s := range samples {
		r := s.r
		switch {
		case r.err != nil:
			t.Errorf("%s: %v", s.at.Format("15:04:05.000"), r.err)
		case r.cleared:
			t.Errorf("%s: %d cleared the session cookie", s.at.Format("15:04:05.000"), r.status)
		case r.status == 200 && r.name == "Ada Lovelace":
			continue
		case r.status == 503 && r.retryAfter != "":
			unavailable++
		default:
			t.Errorf("%s: %d %q (Retry-After %q): neither the session nor a 503", s.at.Format("15:04:05.000"), r.status, r.body, r.retryAfter)
		}
		lastBad = s.at
	}
	return unavailable, lastBad
}

// TestPostgresRestart stops PostgreSQL (pg_ctl stop -m fast) for 10 s while
// reads loop on both instances and sign-ins on b.
func TestPostgresRestart(t *testing.T) {
	p := newPgPair(t)
	c := pgClient()
	pgSignIn(t, c, p.a)
	stop := make(chan struct{})
	la, lb := readLoop(c, p.a, stop), readLoop(c, p.b, stop)
	// Sign-ins loop too (on b): each one either completes or fails, and
	// they complete again once PostgreSQL is back.
	var lastSignIn atomic.Int64 // unix ns of the last completed sign-in
	signins := make(chan struct{})
	go func() {
		defer close(signins)
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			done, err := devidptest.SignIn(pgClient(), p.b, "", "ada")
			if err == nil && done.StatusCode == http.StatusFound && !strings.Contains(done.Header.Get("Location"), "error") {
				lastSignIn.Store(time.Now().UnixNano())
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	if code := pgReady(p.a); code != 200 {
		t.Fatalf("/readyz before the stop: %d", code)
	}
	p.pg.Stop()
	time.Sleep(5 * time.Second)
	if code := pgReady(p.a); code != 503 {
		t.Errorf("/readyz with PostgreSQL stopped: %d, want 503", code)
	}
	time.Sleep(5 * time.Second)
	p.pg.Restart()
	back := time.Now()
	time.Sleep(6 * time.Second)
	close(stop)
	<-signins
	if last := time.Unix(0, lastSignIn.Load()); last.Before(back) {
		t.Errorf("no sign-in completed after PostgreSQL was back (last at %s)", last.Format("15:04:05.000"))
	}
	for name, ch := range map[string]<-chan []pgSample{"a": la, "b": lb} {
		n503, lastBad := checkFaultAnswers(t, <-ch)
		if n503 < 100 {
			t.Errorf("%s: %d answers were 503 while PostgreSQL was down for 10 s", name, n503)
		}
		if d := lastBad.Sub(back); d > 5*time.Second {
			t.Errorf("%s: still failing %s after PostgreSQL accepted connections", name, d)
		}
	}
	if r := pgSession(c, p.b); r.name != "Ada Lovelace" {
		t.Fatalf("after the restart: %d %q", r.status, r.body)
	}
	if code := pgReady(p.b); code != 200 {
		t.Fatalf("/readyz after the restart: %d", code)
	}
}

// pgReady is the status of GET /readyz.
func pgReady(base string) int {
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestPostgresTerminatedConnections(t *testing.T) {
	p := newPgPair(t)
	c := pgClient()
	pgSignIn(t, c, p.a)
	stop := make(chan struct{})
	la, lb := readLoop(c, p.a, stop), readLoop(c, p.b, stop)
	time.Sleep(300 * time.Millisecond)
	killed := p.pg.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'authbff' AND pid <> pg_backend_pid()")
	if killed < 4 {
		t.Fatalf("terminated %d connections, want the pools' and the LISTEN ones", killed)
	}
	at := time.Now()
	time.Sleep(3 * time.Second)
	close(stop)
	for name, ch := range map[string]<-chan []pgSample{"a": la, "b": lb} {
		_, lastBad := checkFaultAnswers(t, <-ch)
		if d := lastBad.Sub(at); d > 2*time.Second {
			t.Errorf("%s: still failing %s after the connections were terminated", name, d)
		}
	}
	// The feeds are back: a sign-out on a is final on b at once.
	u, _ := url.Parse(p.a)
	cookies := c.Jar.Cookies(u)
	pgSignOut(t, c, p.a)
	stalec := pgClient()
	stalec.Jar.SetCookies(u, cookies)
	if r := pgSession(stalec, p.b); r.status != 200 || r.name != "" {
		t.Fatalf("b after a's sign-out: %d %q", r.status, r.body)
	}
}
