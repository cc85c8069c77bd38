package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/testkit"
	"github.com/authbff/authbff/internal/testkit/fakeop"
)

// syncBuffer is a bytes.Buffer the process's output is copied into while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSIGHUPRotatesSecretFiles: the real binary, given NEXTAUTH_SECRET_FILE
// and COGNITO_CLIENT_SECRET_FILE, re-reads them on SIGHUP: it logs the
// variables rotated, the session signed in before stays valid, a new
// sign-in (with the provider's new client secret) works; a file rewritten
// with a too-short secret is logged as an error naming the variable and
// the secrets in use keep working.
func TestSIGHUPRotatesSecretFiles(t *testing.T) {
	bin := authbffBinary(t)
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p+".tmp", []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(p+".tmp", p); err != nil { // as a secret volume updates
			t.Fatal(err)
		}
		return p
	}
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"PORT=" + port, "HOST=127.0.0.1", "NEXTAUTH_URL=" + base, "METRICS_ADDR=", "SHUTDOWN_DRAIN_DELAY=1ms",
		"SESSION_STORE=memory", "AUTHBFF_DATA_DIR=" + t.TempDir(), "AUTH_FEDERATED_SIGNOUT=0",
		"COGNITO_CLIENT_ID=" + f.ClientID, "COGNITO_ISSUER=" + f.Issuer(),
		"NEXTAUTH_SECRET_FILE=" + write("secret", "sighup-secret-one-sighup-secret-one-0123\n"),
		"COGNITO_CLIENT_SECRET_FILE=" + write("client-secret", f.Secret+"\n"),
	}
	cmd := exec.Command(bin)
	cmd.Env, cmd.Dir = env, t.TempDir()
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			select {
			case err := <-done:
				done <- err
				t.Fatalf("authbff exited (%v) waiting for %s:\n%s", err, what, logs.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s after 15 s:\n%s", what, logs.String())
			}
		}
	}
	waitFor("answer", func() bool {
		resp, err := http.Get(base + "/api/auth/csrf")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	signIn := func() *testkit.Browser {
		t.Helper()
		b := testkit.NewBrowser(t)
		cb := b.Get(testkit.Location(t, b.Get(b.StartSignIn(base, "cognito", base+"/done"))))
		if loc := testkit.Location(t, cb); loc != base+"/done" {
			t.Fatalf("sign-in ended at %s:\n%s", loc, logs.String())
		}
		return b
	}
	signedIn := func(b *testkit.Browser, when string) {
		t.Helper()
		if name, _ := b.SessionUser(base); name != "Ada Lovelace" {
			t.Fatalf("%s, the session reads %q:\n%s", when, name, logs.String())
		}
	}
	first := signIn()
	hangup := func(logged string) string {
		t.Helper()
		n := strings.Count(logs.String(), logged)
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor("log line "+logged, func() bool { return strings.Count(logs.String(), logged) > n })
		lines := strings.Split(logs.String(), "\n")
		for i := len(lines) - 1; ; i-- {
			if strings.Contains(lines[i], logged) {
				return lines[i]
			}
		}
	}

	f.SetSecret("rotated-client-secret") // the provider rotates; the old one is refused
	write("secret", "sighup-secret-two-sighup-secret-two-0123\n")
	write("client-secret", "rotated-client-secret\n")
	line := hangup("secret reload: rotated")
	for _, want := range []string{"level=INFO", "NEXTAUTH_SECRET_FILE", "COGNITO_CLIENT_SECRET_FILE"} {
		if !strings.Contains(line, want) {
			t.Errorf("the SIGHUP log line lacks %s: %s", want, line)
		}
	}
	signedIn(first, "after SIGHUP")
	second := signIn()

	write("secret", "too-short\n")
	line = hangup("secret reload: nothing changed")
	if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "NEXTAUTH_SECRET_FILE") {
		t.Fatalf("a too-short secret file on SIGHUP: %s", line)
	}
	signedIn(first, "after a refused SIGHUP")
	signedIn(second, "after a refused SIGHUP")
	signIn()
	for _, s := range []string{"sighup-secret-one", "sighup-secret-two", "rotated-client-secret", "too-short"} {
		if strings.Contains(logs.String(), s) {
			t.Fatalf("a secret (%s) is in the log:\n%s", s, logs.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after SIGTERM:\n%s", logs.String())
	}
}
