package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/config"
)

// binDir holds the authbff that `go install` made for these tests.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authbff-cli-test")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var install struct {
	once sync.Once
	path string
	err  error
}

// authbffBinary is `go install ./cmd/authbff` into a temporary GOBIN: the
// path of the program it installed, which must be called authbff.
func authbffBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds the binary")
	}
	install.once.Do(func() {
		cmd := exec.Command("go", "install", ".")
		cmd.Env = append(os.Environ(), "GOBIN="+binDir)
		if out, err := cmd.CombinedOutput(); err != nil {
			install.err = errors.New("go install ./cmd/authbff: " + err.Error() + "\n" + string(out))
			return
		}
		install.path = filepath.Join(binDir, "authbff")
		if _, err := os.Stat(install.path); err != nil {
			install.err = errors.New("go install ./cmd/authbff made no program called authbff: " + err.Error())
		}
	})
	if install.err != nil {
		t.Fatal(install.err)
	}
	return install.path
}

// trap is a configuration under which any action of authbff is seen:
// every address it names (the identity provider, the session store) is a
// loopback listener that fails the test when anything connects, and the
// server's own ports are free ones (a started server keeps running).
type trap struct {
	t    *testing.T
	env  map[string]string
	mu   sync.Mutex
	hits int
}

// hostileEnv is a trap configuration, with extra on top.
func hostileEnv(t *testing.T, extra map[string]string) *trap {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &trap{t: t}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tr.mu.Lock()
			tr.hits++
			tr.mu.Unlock()
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	addr := ln.Addr().String()
	tr.env = map[string]string{
		"NEXTAUTH_URL":          "http://localhost:3999",
		"NEXTAUTH_SECRET":       strings.Repeat("s", 32),
		"COGNITO_CLIENT_ID":     "client",
		"COGNITO_CLIENT_SECRET": "secret",
		"COGNITO_ISSUER":        "http://" + addr + "/pool",
		"SESSION_STORE":         "redis://" + addr + "/0",
		"PORT":                  "0",
		"HOST":                  "127.0.0.1",
		"METRICS_ADDR":          "127.0.0.1:0",
		"DEVIDP_PORT":           "0",
		"AUTHBFF_DATA_DIR":      t.TempDir(),
	}
	for k, v := range extra {
		tr.env[k] = v
	}
	return tr
}

// connections is how many connections reached the trap so far.
func (tr *trap) connections() int {
	time.Sleep(50 * time.Millisecond) // a connection on its way
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.hits
}

// source is the trap configuration as a config.Source (no dotenv files).
func (tr *trap) source() config.Source {
	var list []string
	for k, v := range tr.env {
		list = append(list, k+"="+v)
	}
	return config.Source{Environ: list, NoFiles: true}
}

// environ is the trap configuration as a process environment.
func (tr *trap) environ() []string {
	list := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tr.t.TempDir()}
	for k, v := range tr.env {
		list = append(list, k+"="+v)
	}
	return list
}

// result is what a run of the binary did.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// runBinary runs authbff args under env in an empty directory, killing it
// after 5 s.
func runBinary(t *testing.T, env []string, args ...string) result {
	t.Helper()
	bin := authbffBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env, cmd.Dir = env, t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("authbff %v: %v", args, err)
	}
	return r
}

// TestHelpDoesNothing: `go install ./cmd/authbff` makes authbff, and its
// help (of the program and of each command that acts) exits 0 within a
// second, prints the command's purpose, flags and where the settings are,
// and does nothing: under a configuration where any start-up, check or
// store connection reaches a listener of the test (or keeps running), none
// does.
func TestHelpDoesNothing(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"Usage:", "serve", "doctor", "devidp", "sessions", "version", "authbff <command> --help"}},
		{[]string{"-h"}, []string{"Commands:", "serve"}},
		{[]string{"help"}, []string{"Commands:", "doctor"}},
		{[]string{"serve", "--help"}, []string{"authbff serve: run the server", "--port N", "--host ADDR", "overrides PORT"}},
		{[]string{"serve", "-h"}, []string{"authbff serve:", "--port"}},
		{[]string{"--port", "3305", "--help"}, []string{"authbff serve:", "--port"}},
		{[]string{"doctor", "--help"}, []string{"authbff doctor: check the configuration", "starts no server"}},
		{[]string{"doctor", "-h"}, []string{"authbff doctor:"}},
		{[]string{"help", "doctor"}, []string{"authbff doctor:"}},
		{[]string{"devidp", "--help"}, []string{"authbff devidp: run only the development IdP", "DEVIDP_PORT"}},
		{[]string{"sessions", "--help"}, []string{"authbff sessions revoke --sub SUB", "--sub SUB", "--provider ID", "(default cognito)"}},
		{[]string{"sessions", "revoke", "--help"}, []string{"--sub SUB"}},
		{[]string{"version", "--help"}, []string{"authbff version:"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			tr := hostileEnv(t, nil)
			r := runBinary(t, tr.environ(), tc.args...)
			if n := tr.connections(); n != 0 {
				t.Errorf("help made %d connection(s) to the configured addresses", n)
			}
			if r.code != 0 || r.took > 3*time.Second {
				t.Fatalf("exit %d after %v, want 0 within 3 s (a prompt exit, not a server)\nstdout: %s\nstderr: %s", r.code, r.took, r.stdout, r.stderr)
			}
			want := append([]string{"environment variables", "README", "--help"}, tc.want...)
			for _, w := range want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("help lacks %q:\n%s", w, r.stdout)
				}
			}
			if r.stderr != "" {
				t.Errorf("help wrote to stderr: %s", r.stderr)
			}
		})
	}
}

// TestBadArgumentsAreErrors: an unknown flag, command or argument is an
// error naming it (exit 2) and nothing runs.
func TestBadArgumentsAreErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--bogus"}, "unknown flag --bogus"},
		{[]string{"--bogus"}, "unknown flag --bogus"},
		{[]string{"serve", "-bogus=1"}, "unknown flag -bogus"},
		{[]string{"serve", "--port", "http"}, "-port"},
		{[]string{"serve", "--port", "70000"}, "-port"},
		{[]string{"serve", "extra"}, `unexpected argument "extra"`},
		{[]string{"doctor", "--bogus"}, "unknown flag --bogus"},
		{[]string{"devidp", "--port", "1"}, "unknown flag --port"},
		{[]string{"sessions", "revoke"}, "--sub and --provider must not be empty"},
		{[]string{"sessions", "list"}, `expected "revoke"`},
		{[]string{"sessions", "revoke", "--sub", "x", "--bogus"}, "unknown flag --bogus"},
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"help", "nope"}, `unknown command "nope"`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			tr := hostileEnv(t, nil)
			var out, errb bytes.Buffer
			code := run(tc.args, tr.source(), &out, &errb)
			if code != 2 || !strings.Contains(errb.String(), tc.want) || out.Len() != 0 {
				t.Fatalf("exit %d, stderr %q, stdout %q; want 2 and %q", code, errb.String(), out.String(), tc.want)
			}
			if n := tr.connections(); n != 0 {
				t.Fatalf("%d connection(s) to the configured addresses", n)
			}
		})
	}
	t.Run("the binary", func(t *testing.T) {
		tr := hostileEnv(t, nil)
		r := runBinary(t, tr.environ(), "serve", "--bogus")
		if r.code == 0 || !strings.Contains(r.stderr, "--bogus") || r.took > 3*time.Second {
			t.Fatalf("authbff serve --bogus: exit %d after %v, stderr %q", r.code, r.took, r.stderr)
		}
		if n := tr.connections(); n != 0 {
			t.Fatalf("%d connection(s) to the configured addresses", n)
		}
	})
}

// TestServeFlags: --port and --host win over PORT and HOST; the server
// answers there, and stops cleanly on SIGTERM.
func TestServeFlags(t *testing.T) {
	bin := authbffBinary(t)
	port := freePort(t)
	tr := hostileEnv(t, map[string]string{
		"PORT": "http", "HOST": "not-an-address", // a configuration error unless overridden
		"NEXTAUTH_URL": "http://127.0.0.1:" + port, "SESSION_STORE": "memory",
		"SHUTDOWN_DRAIN_DELAY": "1ms",
	})
	cmd := exec.Command(bin, "serve", "--port", port, "--host", "127.0.0.1")
	cmd.Env, cmd.Dir = tr.environ(), t.TempDir()
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &errb, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	url := "http://127.0.0.1:" + port + "/api/auth/csrf"
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", url, resp.StatusCode)
			}
			break
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("authbff serve --port %s exited (%v):\n%s", port, err, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing answers on --port %s:\n%s", port, errb.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("after SIGTERM: %v\n%s", err, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after SIGTERM:\n%s", errb.String())
	}
}

// freePort is a loopback port nothing listens on (now).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// TestOverride: the flags' values replace the environment's, in Getenv
// and in Environ, and leave everything else as it was.
func TestOverride(t *testing.T) {
	for _, base := range []config.Source{
		{Environ: []string{"PORT=1", "A=b"}},
		{Environ: []string{"PORT=1", "A=b"}, Getenv: func(k string) (string, bool) {
			return map[string]string{"PORT": "1", "A": "b"}[k], k == "PORT" || k == "A"
		}},
	} {
		src := override(base, map[string]string{"PORT": "2", "HOST": ""})
		if v, _ := src.Getenv("PORT"); v != "2" {
			t.Errorf("PORT = %q", v)
		}
		if v, ok := src.Getenv("A"); v != "b" || !ok {
			t.Errorf("A = %q %v", v, ok)
		}
		if _, ok := src.Getenv("HOST"); ok {
			t.Error("an empty flag set HOST")
		}
		if got := strings.Join(src.Environ, " "); got != "A=b PORT=2" {
			t.Errorf("Environ %q", got)
		}
	}
}
