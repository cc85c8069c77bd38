package api

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/testkit"
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

// browser is testkit's recording browser, with the tests' own steps.
type browser struct{ *testkit.Browser }

type response = testkit.Response

func newBrowser(t *testing.T) *browser { return &browser{testkit.NewBrowser(t)} }

// location returns a redirect's absolute target.
func location(t testing.TB, r response) string { t.Helper(); return testkit.Location(t, r) }

func cookieNamed(cs []*http.Cookie, name string) *http.Cookie { return testkit.CookieNamed(cs, name) }

// runMain serves m (made by the test with New) until the test ends.
func runMain(t *testing.T, m *Server) *testApp {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &testApp{t: t, URL: m.URL(), Main: m, done: make(chan struct{}), stop: cancel}
	go func() {
		defer close(a.done)
		if err := m.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(a.Close)
	return a
}

// listenLoopback listens on a free loopback port.
func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// textLogger logs at info to w and to the test output.
func textLogger(t *testing.T, w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.MultiWriter(w, t.Output()), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// lockedBuffer is an io.Writer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
