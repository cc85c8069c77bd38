package api

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/testkit/fakeop"
)

// opsClosedPort is a loopback port nothing listens on (it was free a moment ago).
func opsClosedPort(t *testing.T) string { return opsFreePort(t) }

// opsProvidersOK fails unless base answers /api/auth/providers with 200.
func opsProvidersOK(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(base + "/api/auth/providers")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/api/auth/providers: %d", resp.StatusCode)
	}
}

// TestStartupCheckUnreachableIssuer: with the issuer unreachable authbff
// starts, serves, and within 10 s logs a WARN naming the issuer, the fix
// and `authbff doctor`.
func TestStartupCheckUnreachableIssuer(t *testing.T) {
	issuer := "http://127.0.0.1:" + opsClosedPort(t) + "/pool"
	logs := &opsLog{}
	start := time.Now()
	app := startAppWith(t, map[string]string{
		"COGNITO_CLIENT_ID": "abc", "COGNITO_ISSUER": issuer, "NEXTAUTH_URL": "auto",
		"NEXTAUTH_SECRET": "startup-secret-startup-secret-startup-0123", "SESSION_STORE": "memory",
	}, "127.0.0.1:0", logs, slog.LevelInfo)
	opsProvidersOK(t, app.URL)
	if !logs.waitFor("authbff doctor", 10*time.Second-time.Since(start)) {
		t.Fatalf("no start-up warning within 10 s; logs:\n%s", logs)
	}
	line := opsLineWith(logs.String(), "authbff doctor")
	for _, want := range []string{"level=WARN", issuer, "refused the connection", "fix: check COGNITO_ISSUER", "run `authbff doctor` for details"} {
		if !strings.Contains(line, want) {
			t.Errorf("start-up warning lacks %q: %s", want, line)
		}
	}
	opsProvidersOK(t, app.URL) // still serving
}

// TestStartupCheckUnresolvableDomain: COGNITO_DOMAIN alone (the README's
// headline configuration) naming a host that does not resolve.
func TestStartupCheckUnresolvableDomain(t *testing.T) {
	logs := &opsLog{}
	app := startAppWith(t, map[string]string{
		"COGNITO_CLIENT_ID": "abc", "COGNITO_CLIENT_SECRET": "s", "COGNITO_DOMAIN": "authbff-test-nowhere.invalid",
		"NEXTAUTH_URL": "auto", "NEXTAUTH_SECRET": "startup-secret-startup-secret-startup-0123", "SESSION_STORE": "memory",
	}, "127.0.0.1:0", logs, slog.LevelInfo)
	opsProvidersOK(t, app.URL)
	if !logs.waitFor("authbff doctor", 10*time.Second) {
		t.Fatalf("no start-up warning within 10 s; logs:\n%s", logs)
	}
	line := opsLineWith(logs.String(), "authbff doctor")
	if !strings.Contains(line, "cannot resolve authbff-test-nowhere.invalid: check COGNITO_DOMAIN (the Domain name of the user pool's app integration) and this machine's DNS") {
		t.Errorf("start-up warning does not summarise the DNS failure: %s", line)
	}
}

func opsLineWith(logs, s string) string {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// TestStartupCheckQuietWhenAllIsWell: a reachable provider and store give
// no start-up warning.
func TestStartupCheckQuietWhenAllIsWell(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	logs := &opsLog{}
	app := startAppWith(t, map[string]string{
		"COGNITO_CLIENT_ID": f.ClientID, "COGNITO_CLIENT_SECRET": f.Secret, "COGNITO_ISSUER": f.Issuer(), "NEXTAUTH_URL": "auto",
		"NEXTAUTH_SECRET": "startup-secret-startup-secret-startup-0123", "SESSION_STORE": "memory",
	}, "127.0.0.1:0", logs, slog.LevelInfo)
	opsProvidersOK(t, app.URL)
	time.Sleep(time.Second)
	app.Close() // waits for the check
	if strings.Contains(logs.String(), "start-up check") {
		t.Errorf("start-up warnings with a working provider:\n%s", logs)
	}
}

// TestUnknownVariableWarned: NEXTAUTH_ULR (a typo) is warned about,
// naming NEXTAUTH_URL.
func TestUnknownVariableWarned(t *testing.T) {
	logs := &opsLog{}
	app := startAppWith(t, map[string]string{"NEXTAUTH_ULR": "http://localhost:3000"}, "127.0.0.1:0", logs, slog.LevelInfo)
	opsProvidersOK(t, app.URL)
	line := opsLineWith(logs.String(), "NEXTAUTH_ULR")
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "NEXTAUTH_URL") {
		t.Errorf("no WARN about NEXTAUTH_ULR naming NEXTAUTH_URL; logs:\n%s", logs)
	}
}

// opsStructuredLine is the text handler's "time=... level=..." or a JSON
// object with time and level.
var opsStructuredLine = regexp.MustCompile(`^time=\S+ level=[A-Z]+ `)

// TestDeadRedisStderrStructured runs the server as the binary does (its
// own logger on stderr) with SESSION_STORE naming a closed port: it
// starts, warns, and every stderr line is a structured log line (go-redis's
// own lines included).
func TestDeadRedisStderrStructured(t *testing.T) {
	redistest.SkipShort(t) // a dead Redis: no server needed, but the go-redis reconnect waits are long
	if os.Getenv("AUTHBFF_TEST_HELPER_SERVE") != "" {
		t.Skip("helper")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServeDeadRedis$", "-test.v=false")
	cmd.Env = append(os.Environ(), "GO_HELPER_SERVE_DEAD_REDIS=redis://127.0.0.1:"+opsClosedPort(t)+"/0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v\n%s", err, strings.Join(lines, "\n"))
	}
	warned := false
	for _, l := range lines {
		if !opsStructuredLine.MatchString(l) && !json.Valid([]byte(l)) {
			t.Errorf("stderr line is not structured: %q", l)
		}
		warned = warned || strings.Contains(l, "session store") && strings.Contains(l, "authbff doctor")
	}
	if !warned {
		t.Errorf("no start-up warning about the session store:\n%s", strings.Join(lines, "\n"))
	}
}

// TestHelperServeDeadRedis is TestDeadRedisStderrStructured's child: New
// with no Logger (the binary's stderr logger), Run, a few session reads,
// then stop.
func TestHelperServeDeadRedis(t *testing.T) {
	spec := os.Getenv("GO_HELPER_SERVE_DEAD_REDIS")
	if spec == "" {
		t.Skip("run by TestDeadRedisStderrStructured")
	}
	m, err := New(Options{Source: envSource(map[string]string{
		"SESSION_STORE": spec, "PORT": "0", "METRICS_ADDR": "", "AUTHBFF_DATA_DIR": t.TempDir(), "SHUTDOWN_DRAIN_DELAY": "0",
	}, t.TempDir())})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	deadline := time.Now().Add(9 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, m.URL()+"/api/auth/session", nil)
		req.AddCookie(&http.Cookie{Name: "next-auth.session-token", Value: "x"})
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		time.Sleep(300 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
	m.Close()
}
