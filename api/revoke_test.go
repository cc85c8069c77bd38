package api

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/revoke"
	"github.com/authbff/authbff/internal/testkit"
)

const (
	revokeSecret      = "revoke-test-secret-0123456789abcdef0123456789"
	revokeOtherSecret = "another-secret-0123456789abcdef0123456789abcd"
)

// revokeCmd runs `authbff sessions revoke --sub <sub>` in-process with
// exactly env as its configuration, as another process beside the server
// would (it shares only the environment and the network with it).
func revokeCmd(t *testing.T, env map[string]string, sub string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = sessionsCmd(context.Background(), envSource(env, t.TempDir()), []string{"revoke", "--sub", sub}, &out, &errOut)
	t.Logf("sessions revoke: exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
	return code, out.String(), errOut.String()
}

// sessionsCmd is what `authbff sessions revoke` (cmd/authbff) does with
// args, "revoke" and its flags, and the configuration src.
func sessionsCmd(ctx context.Context, src config.Source, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sessions revoke", flag.ContinueOnError)
	sub := fs.String("sub", "", "")
	prov := fs.String("provider", "cognito", "")
	if len(args) == 0 || args[0] != "revoke" || fs.Parse(args[1:]) != nil {
		panic(fmt.Sprintf("sessionsCmd %q: not a sessions revoke command line", args))
	}
	o, cfg, err := LoadSettings(src)
	if err != nil {
		fmt.Fprintf(stderr, "authbff: configuration:\n%v\n", err)
		return 1
	}
	return revoke.User(ctx, o, cfg.MetricsAddr, *prov, *sub, stdout, stderr)
}

// cliEnv is the server's env as the command sees it: METRICS_ADDR is the
// address the server really listens on.
func cliEnv(env map[string]string, metricsAddr string) map[string]string {
	out := cloneEnv(env)
	out["METRICS_ADDR"] = metricsAddr
	return out
}

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln := listenLoopback(t)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// demoSub is the sub of the demo user named name.
func demoSub(t *testing.T, name string) string {
	t.Helper()
	for _, u := range devidp.DemoUsers() {
		if u.Username == name {
			return u.Sub
		}
	}
	t.Fatalf("no demo user %q", name)
	return ""
}

// signInAs signs a demo user in through the dev IdP and returns a client
// holding the session cookie.
func signInAs(t *testing.T, base, user string) *http.Client {
	t.Helper()
	c := testkit.SignedInClient(t, base, user)
	if sessionUserAt(t, c, base) != user+"@example.com" {
		t.Fatalf("%s is not signed in after the sign-in", user)
	}
	return c
}

func wantContains(t *testing.T, what, got string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(got, s) {
			t.Errorf("%s %q does not contain %q", what, got, s)
		}
	}
}

// TestRevokeReachesTheRunningServer: with SESSION_STORE=memory (sessions
// only inside the server) and bolt (its file locked by the server), the
// command ends the user's sessions through the server's admin endpoint.
func TestRevokeReachesTheRunningServer(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, store string }{
		{"memory", "memory"},
		{"bolt", "bolt:" + filepath.Join(dir, "sessions.db")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"SESSION_STORE": tc.store, "AUTHBFF_DATA_DIR": t.TempDir()}
			if tc.name == "memory" {
				env["NEXTAUTH_SECRET"] = revokeSecret
			} // bolt: the development secret the server made in the data dir
			app := startApp(t, env)
			ada, grace := signInAs(t, app.URL, "ada"), signInAs(t, app.URL, "grace")
			addr := app.Main.MetricsAddr()
			code, out, _ := revokeCmd(t, cliEnv(env, addr), demoSub(t, "ada"))
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			wantContains(t, "stdout", out, "ended 1 session(s)", "SESSION_STORE="+tc.store, "via the server at "+addr)
			if u := sessionUserAt(t, ada, app.URL); u != "" {
				t.Fatalf("after the revocation ada's browser is still signed in as %q", u)
			}
			if u := sessionUserAt(t, grace, app.URL); u != "grace@example.com" {
				t.Fatalf("the revocation of ada ended grace's session (%q)", u)
			}
		})
	}
}

// TestRevokeNeverClaimsWhatItDidNotDo: when the server cannot be reached,
// a memory store (or a bolt file the server holds) is refused with a
// non-zero exit naming the store; no "ended" line.
func TestRevokeNeverClaimsWhatItDidNotDo(t *testing.T) {
	dead := deadAddr(t)
	mem := map[string]string{"SESSION_STORE": "memory", "NEXTAUTH_SECRET": revokeSecret, "AUTHBFF_DATA_DIR": t.TempDir()}
	for _, tc := range []struct {
		name, metricsAddr string
		want              []string
	}{
		{"memory, no server", dead, []string{"SESSION_STORE=memory keeps sessions inside the running server", "no server answered at " + dead}},
		{"memory, METRICS_ADDR off", "", []string{"SESSION_STORE=memory", "METRICS_ADDR is off"}},
		{"memory, METRICS_ADDR port 0", "127.0.0.1:0", []string{"SESSION_STORE=memory", "picks a free port"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := revokeCmd(t, cliEnv(mem, tc.metricsAddr), demoSub(t, "ada"))
			if code == 0 || strings.Contains(out, "ended") {
				t.Fatalf("exit %d, stdout %q: reported success with no server to act on", code, out)
			}
			wantContains(t, "stderr", errOut, tc.want...)
		})
	}

	t.Run("bolt held by a server that does not answer", func(t *testing.T) {
		dir := t.TempDir()
		store := "bolt:" + filepath.Join(dir, "sessions.db")
		env := map[string]string{"SESSION_STORE": store, "AUTHBFF_DATA_DIR": dir}
		app := startApp(t, env)
		ada := signInAs(t, app.URL, "ada")
		code, out, errOut := revokeCmd(t, cliEnv(env, dead), demoSub(t, "ada"))
		if code == 0 || strings.Contains(out, "ended") {
			t.Fatalf("exit %d, stdout %q", code, out)
		}
		wantContains(t, "stderr", errOut, "a server holds SESSION_STORE="+store, "no server answered at "+dead)
		if sessionUserAt(t, ada, app.URL) == "" {
			t.Fatal("the refused revocation ended the session")
		}
	})
}

// TestRevokeDirectlyWhenNoServerHoldsTheFile: a bolt store no server holds
// is opened directly, and the output says so.
func TestRevokeDirectlyWhenNoServerHoldsTheFile(t *testing.T) {
	dir := t.TempDir()
	store := "bolt:" + filepath.Join(dir, "sessions.db")
	env := map[string]string{"AUTHBFF_DATA_DIR": dir, "SESSION_STORE": store}
	app := startApp(t, env)
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	app.Close()

	dead := deadAddr(t)
	code, out, _ := revokeCmd(t, cliEnv(env, dead), demoSub(t, "ada"))
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	wantContains(t, "stdout", out, "ended 1 session(s)", "SESSION_STORE="+store+" directly", "no server answered at "+dead)
	app2 := startApp(t, env)
	if s := b.SessionAt(app2.URL, app.URL); len(s) != 0 {
		t.Fatalf("after revoke the session is still there: %v", s)
	}
}

// TestRevokeAdminEndpointNeedsTheCredential: the admin endpoint answers 401
// without the credential of a configured secret (none, a wrong one, one of
// another secret), logs the refusal without the header, and ends nothing;
// the credential of a previous secret is accepted.
func TestRevokeAdminEndpointNeedsTheCredential(t *testing.T) {
	var logs lockedBuffer
	env := map[string]string{"SESSION_STORE": "memory", "AUTHBFF_DATA_DIR": t.TempDir(),
		"NEXTAUTH_SECRET": revokeOtherSecret, "NEXTAUTH_SECRET_PREVIOUS": revokeSecret}
	app := startAppWith(t, env, "127.0.0.1:0", &logs, slog.LevelInfo)
	ada := signInAs(t, app.URL, "ada")
	addr := app.Main.MetricsAddr()
	endpoint := "http://" + addr + bff.AdminRevokePath
	body := `{"provider":"cognito","sub":"` + demoSub(t, "ada") + `"}`
	wrongCred, err := bff.Options{Secrets: []string{"yet-another-secret-0123456789abcdef0123"}}.AdminCredential()
	if err != nil {
		t.Fatal(err)
	}
	for _, auth := range []string{"", "Bearer ", "Bearer wrong-credential", "Bearer " + wrongCred, "Basic " + wrongCred} {
		req, _ := http.NewRequest("POST", endpoint, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("Authorization %q: %d, WWW-Authenticate %q; want 401 with a challenge", auth, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	if sessionUserAt(t, ada, app.URL) == "" {
		t.Fatal("a refused admin request ended the session")
	}
	wantContains(t, "log", logs.String(), "admin: refused a request without a valid admin credential")
	if strings.Contains(logs.String(), wrongCred) {
		t.Fatal("the log holds a sent credential")
	}

	// The public listener never serves the endpoint, even with the credential.
	goodCred, _ := bff.Options{Secrets: []string{revokeOtherSecret}}.AdminCredential()
	req, _ := http.NewRequest("POST", app.URL+bff.AdminRevokePath, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+goodCred)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode == http.StatusOK || sessionUserAt(t, ada, app.URL) == "" {
		t.Fatalf("the public listener answered the admin endpoint: %d", resp.StatusCode)
	}

	// The command run with a secret the server does not know: refused.
	stranger := cliEnv(env, addr)
	stranger["NEXTAUTH_SECRET"], stranger["NEXTAUTH_SECRET_PREVIOUS"] = "stranger-secret-0123456789abcdef0123456789", ""
	code, out, errOut := revokeCmd(t, stranger, demoSub(t, "ada"))
	if code == 0 || strings.Contains(out, "ended") {
		t.Fatalf("a foreign secret: exit %d, stdout %q", code, out)
	}
	wantContains(t, "stderr", errOut, "refused this command's admin credential", "SESSION_STORE=memory")
	if sessionUserAt(t, ada, app.URL) == "" {
		t.Fatal("a refused command ended the session")
	}

	// Configured before the rotation (the previous secret current): accepted.
	before := cliEnv(env, addr)
	before["NEXTAUTH_SECRET"], before["NEXTAUTH_SECRET_PREVIOUS"] = revokeSecret, ""
	if code, out, _ := revokeCmd(t, before, demoSub(t, "ada")); code != 0 || !strings.Contains(out, "ended 1 session(s)") {
		t.Fatalf("previous secret: exit %d, stdout %q", code, out)
	}
	if sessionUserAt(t, ada, app.URL) != "" {
		t.Fatal("the session lives after the accepted revocation")
	}
}

// TestRevokeRedisDirectly: a Redis store is shared, so with no admin
// endpoint (METRICS_ADDR off) the command acts on it directly, and the
// running server stops serving the session (its cache is told).
func TestRevokeRedisDirectly(t *testing.T) {
	url := redistest.Start(t).URL
	env := map[string]string{"SESSION_STORE": url, "NEXTAUTH_SECRET": revokeSecret, "AUTHBFF_DATA_DIR": t.TempDir()}
	app := startApp(t, env)
	ada := signInAs(t, app.URL, "ada")
	code, out, _ := revokeCmd(t, cliEnv(env, ""), demoSub(t, "ada"))
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	wantContains(t, "stdout", out, "ended 1 session(s)", "SESSION_STORE="+bff.RedactStoreSpec(url)+" directly", "METRICS_ADDR is off")
	if u := sessionUserAt(t, ada, app.URL); u != "" {
		t.Fatalf("after the revocation the running server still serves ada's session (%q)", u)
	}
}
