package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/devidp/devidptest"
)

// testApp is a real API server (Server) serving on a loopback port.
type testApp struct {
	t    *testing.T
	URL  string
	Main *Server
	done chan struct{}
	stop context.CancelFunc
}

// startApp runs a Server with exactly env as its environment (no dotenv files).
// NEXTAUTH_URL "auto" becomes http://127.0.0.1:<port> ("auto/x" adds a path).
func startApp(t *testing.T, env map[string]string) *testApp {
	t.Helper()
	return startAppOn(t, env, "127.0.0.1:0")
}

// startAppOn is startApp listening on addr (a restart on the same port).
func startAppOn(t *testing.T, env map[string]string, addr string) *testApp {
	t.Helper()
	return startAppWith(t, env, addr, t.Output(), slog.LevelInfo)
}

// startAppWith is startApp listening on addr and logging to w from level.
func startAppWith(t *testing.T, env map[string]string, addr string, w io.Writer, level slog.Level) *testApp {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	env = cloneEnv(env)
	if rest, ok := strings.CutPrefix(env["NEXTAUTH_URL"], "auto"); ok {
		env["NEXTAUTH_URL"] = "http://" + ln.Addr().String() + rest // "auto/auth": a base path
	}
	if _, ok := env["PORT"]; !ok {
		env["PORT"] = "0"
	}
	if _, ok := env["SHUTDOWN_DRAIN_DELAY"]; !ok {
		env["SHUTDOWN_DRAIN_DELAY"] = "1ms" // tests stop apps all the time
	}
	if _, ok := env["METRICS_ADDR"]; !ok {
		env["METRICS_ADDR"] = "127.0.0.1:0" // many apps per test process
	}
	if _, ok := env["AUTHBFF_DATA_DIR"]; !ok {
		env["AUTHBFF_DATA_DIR"] = t.TempDir() // never ./data of the source tree
	}
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
	m, err := New(Options{Source: envSource(env, t.TempDir()), Listener: ln, Logger: logger})
	if err != nil {
		ln.Close()
		t.Fatalf("New: %v", err)
	}
	return runMain(t, m)
}

// Close stops the app; calling it twice is fine.
func (a *testApp) Close() {
	select {
	case <-a.done:
		return
	default:
	}
	a.stop()
	<-a.done
	_ = a.Main.Close()
}

func cloneEnv(env map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	return out
}

// envSource is exactly env as the configuration, with dir for dotenv files.
func envSource(env map[string]string, dir string) config.Source { return config.FromMap(env, dir) }

// browser is an HTTP client with a cookie jar that does not follow
// redirects, and records everything it saw (for token-leak checks).
type browser struct {
	t   *testing.T
	c   *http.Client
	rec *recorder
}

type recorder struct {
	mu   sync.Mutex
	seen []string // URLs, response headers and bodies
	set  []*http.Cookie
	rt   http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, req.URL.String(), string(body))
	for k, vs := range resp.Header {
		r.seen = append(r.seen, k+": "+strings.Join(vs, ", "))
	}
	r.set = append(r.set, resp.Cookies()...)
	return resp, nil
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	rec := &recorder{rt: http.DefaultTransport}
	return &browser{t: t, rec: rec, c: &http.Client{
		Jar: jar, Transport: rec, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	*http.Response
	Body string
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{Response: resp, Body: string(body)}
}

func (b *browser) get(u string) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *browser) postForm(u string, form url.Values, hdr ...string) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(req)
}

func (b *browser) csrf(base string) string {
	b.t.Helper()
	r := b.get(base + "/api/auth/csrf")
	var v struct{ CsrfToken string }
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil || len(v.CsrfToken) != 64 {
		b.t.Fatalf("csrf: %d %q", r.StatusCode, r.Body)
	}
	return v.CsrfToken
}

// session returns the parsed session JSON (nil for {} / null).
func (b *browser) session(base string) map[string]any {
	b.t.Helper()
	r := b.get(base + "/api/auth/session")
	if r.StatusCode != 200 {
		b.t.Fatalf("session: status %d %s", r.StatusCode, r.Body)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		b.t.Fatalf("session: %q: %v", r.Body, err)
	}
	if len(v) == 0 {
		return nil
	}
	return v
}

// startSignIn does what next-auth/react v4's signIn() does up to the
// navigation: GET /csrf, POST /signin/<id> with json=true; it returns {url}.
func (b *browser) startSignIn(base, provider, callbackURL string) string {
	b.t.Helper()
	tok := b.csrf(base)
	r := b.postForm(base+"/api/auth/signin/"+provider, url.Values{
		"csrfToken": {tok}, "callbackUrl": {callbackURL}, "json": {"true"},
	})
	var v struct{ URL string }
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil || r.StatusCode != 200 || v.URL == "" {
		b.t.Fatalf("signin: %d %q", r.StatusCode, r.Body)
	}
	return v.URL
}

// devLogin submits the dev IdP login page's form for one demo user and
// returns the IdP's redirect (to authbff's callback).
func (b *browser) devLogin(page response, user string) response {
	b.t.Helper()
	if page.StatusCode != 200 || !strings.Contains(page.Body, "login-"+user) {
		b.t.Fatalf("dev IdP login page: %d %s", page.StatusCode, page.Body)
	}
	action, form, err := devidptest.LoginForm(page.Request.URL, page.Body, user)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.postForm(action, form)
}

// location returns a redirect's absolute target.
func location(t *testing.T, r response) string {
	t.Helper()
	if r.StatusCode != http.StatusFound && r.StatusCode != http.StatusSeeOther {
		t.Fatalf("want a redirect from %s, got %d: %s", r.Request.URL, r.StatusCode, r.Body)
	}
	loc, err := r.Request.URL.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.String()
}

func cookieNamed(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}
