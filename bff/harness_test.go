package bff_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/bffhook"
	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/testkit"
)

// testServer is a BFF (bff.New with the test's Options) whose Handler is
// served on a loopback port, its AdminHandler on another: the library as a
// host serves it, no binary involved.
type testServer struct {
	t testing.TB
	// URL is the public URL the BFF answers on (its Options.URL).
	URL string
	// AdminURL is where b.AdminHandler() is served (/metrics, /readyz...).
	AdminURL string
	// BFF is the library instance.
	BFF *bff.BFF

	ln, adminLn   net.Listener
	srv, adminSrv *http.Server
	once          sync.Once
}

// testApp is the name the tests moved from api/ know the server by.
type testApp = testServer

// newTestServer serves bff.New(o) on a free loopback port until the test
// ends. An empty o.URL, or one starting with "auto" ("auto/auth" adds a
// base path), becomes http://127.0.0.1:<port>.
func newTestServer(t *testing.T, o bff.Options) *testServer {
	t.Helper()
	return newTestServerOn(t, o, listen(t, "127.0.0.1:0"))
}

func listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// newTestServerOn is newTestServer serving ln.
func newTestServerOn(t testing.TB, o bff.Options, ln net.Listener) *testServer {
	t.Helper()
	if rest, ok := strings.CutPrefix(o.URL, "auto"); ok || o.URL == "" {
		o.URL = "http://" + ln.Addr().String() + rest
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	b, err := bff.New(context.Background(), o)
	if err != nil {
		ln.Close()
		t.Fatalf("bff.New: %v", err)
	}
	s := &testServer{t: t, URL: b.URL(), BFF: b, ln: ln, adminLn: listen(t, "127.0.0.1:0")}
	s.AdminURL = "http://" + s.adminLn.Addr().String()
	s.srv = &http.Server{Handler: bff.LimitRequestRead(b.Handler(), 30*time.Second), ReadHeaderTimeout: 10 * time.Second}
	s.adminSrv = &http.Server{Handler: b.AdminHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	go func() { _ = s.adminSrv.Serve(s.adminLn) }()
	t.Cleanup(s.Close)
	return s
}

// Close stops serving (in-flight requests finish) and closes the BFF;
// calling it twice is fine.
func (s *testServer) Close() {
	s.once.Do(func() {
		s.BFF.Drain()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
		}
		_ = s.adminSrv.Close()
		if err := s.BFF.Close(); err != nil {
			s.t.Logf("close: %v", err)
		}
	})
}

// startApp is newTestServer with Options mapped from env the way the
// binary maps its environment (config.Load, then OptionsFromConfig; no
// dotenv files). NEXTAUTH_URL "auto" becomes http://127.0.0.1:<port>
// ("auto/x" adds a path); an unset NEXTAUTH_URL is http://localhost:<port>.
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
	ln := listen(t, addr)
	o, err := envOptions(t, env, ln)
	if err != nil {
		ln.Close()
		t.Fatalf("settings: %v", err)
	}
	o.Logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
	return newTestServerOn(t, o, ln)
}

// envOptions maps env (exactly that environment) to bff.Options as the
// binary does; ln's address fills NEXTAUTH_URL "auto" and an unset one.
func envOptions(t testing.TB, env map[string]string, ln net.Listener) (bff.Options, error) {
	t.Helper()
	e := map[string]string{}
	for k, v := range env {
		e[k] = v
	}
	if rest, ok := strings.CutPrefix(e["NEXTAUTH_URL"], "auto"); ok {
		e["NEXTAUTH_URL"] = "http://" + ln.Addr().String() + rest
	}
	if _, ok := e["AUTHBFF_DATA_DIR"]; !ok {
		e["AUTHBFF_DATA_DIR"] = t.TempDir() // never ./data of the source tree
	}
	cfg, err := config.Load(config.FromMap(e, t.TempDir()))
	if err != nil {
		return bff.Options{}, err
	}
	v, err := bffhook.OptionsFromConfig(cfg)
	if err != nil {
		return bff.Options{}, err
	}
	o := v.(bff.Options)
	if !cfg.URLSet {
		o.URL = "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	return o, nil
}

// browser is the recording browser of testkit, with the tests' own steps.
type browser struct{ *testkit.Browser }

type response = testkit.Response

func newBrowser(t *testing.T) *browser { return &browser{testkit.NewBrowser(t)} }

// location returns a redirect's absolute target.
func location(t testing.TB, r response) string { t.Helper(); return testkit.Location(t, r) }

func cookieNamed(cs []*http.Cookie, name string) *http.Cookie { return testkit.CookieNamed(cs, name) }
