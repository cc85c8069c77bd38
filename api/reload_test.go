package api

import (
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/testkit/fakeop"
)

// TestReloadSecrets: secrets rotated in their files are taken on
// ReloadSecrets (what SIGHUP runs): the log names the variables (never the
// values), the session signed in before still reads (its secret is now a
// previous one), the new one is current (its admin credential is taken),
// a new sign-in sends the new client secret; a file that
// became invalid (a too-short secret, a missing file) changes nothing and
// is logged naming the variable; a changed SESSION_STORE warns that it
// needs a restart.
func TestReloadSecrets(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		// As a Kubernetes secret volume does: a new file renamed into place.
		if err := os.WriteFile(p+".tmp", []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oldSecret, newSecret := "reload-secret-one-reload-secret-one-0123", "reload-secret-two-reload-secret-two-0123"
	env := map[string]string{
		"COGNITO_CLIENT_ID": f.ClientID, "COGNITO_ISSUER": f.Issuer(), "NEXTAUTH_URL": "auto",
		"AUTH_FEDERATED_SIGNOUT":     "0",
		"SESSION_STORE_FILE":         write("store", "memory\n"),
		"NEXTAUTH_SECRET_FILE":       write("secret", oldSecret+"\n"),
		"COGNITO_CLIENT_SECRET_FILE": write("client-secret", f.Secret+"\n"),
	}
	var logs lockedBuffer
	t.Cleanup(func() { t.Log(logs.String()) })
	app := startAppWith(t, env, "127.0.0.1:0", &logs, slog.LevelInfo)
	signIn := func(b *browser) string {
		t.Helper()
		return location(t, b.Get(location(t, b.Get(b.StartSignIn(app.URL, "cognito", app.URL+"/done")))))
	}
	first := newBrowser(t)
	if loc := signIn(first); loc != app.URL+"/done" {
		t.Fatalf("first sign-in ended at %s", loc)
	}

	// The provider and the operator rotate both secrets.
	f.SetSecret("rotated-client-secret")
	write("secret", newSecret+"\n")
	write("client-secret", "rotated-client-secret\n")
	if err := app.Main.ReloadSecrets(); err != nil {
		t.Fatalf("ReloadSecrets: %v\n%s", err, logs.String())
	}
	line := lastLine(t, logs.String(), "secret reload: rotated")
	for _, want := range []string{"level=INFO", "NEXTAUTH_SECRET_FILE", "COGNITO_CLIENT_SECRET_FILE"} {
		if !strings.Contains(line, want) {
			t.Errorf("the rotation's log line lacks %s: %s", want, line)
		}
	}
	for _, secret := range []string{oldSecret, newSecret, "rotated-client-secret"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("a secret is in the log:\n%s", logs.String())
		}
	}
	if name, _ := first.SessionUser(app.URL); name != "Ada Lovelace" {
		t.Fatalf("the session of before the rotation reads %q after it", name)
	}
	// The admin endpoint takes the new secret's credential: it is current.
	if code := adminStatus(t, app, newSecret); code != http.StatusOK {
		t.Fatalf("the admin endpoint answers %d to the new secret's credential after the rotation", code)
	}
	second := newBrowser(t)
	if loc := signIn(second); loc != app.URL+"/done" {
		t.Fatalf("a sign-in after the rotation ended at %s (the token endpoint refuses the old client secret)", loc)
	}

	// A too-short secret, then a missing file: refused, nothing changes.
	write("secret", "short\n")
	if err := app.Main.ReloadSecrets(); err == nil {
		t.Fatal("a too-short NEXTAUTH_SECRET_FILE was accepted")
	}
	if line := lastLine(t, logs.String(), "secret reload: nothing changed"); !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "NEXTAUTH_SECRET_FILE") {
		t.Fatalf("the refusal does not name NEXTAUTH_SECRET_FILE at ERROR: %s", line)
	}
	os.Remove(filepath.Join(dir, "client-secret"))
	if err := app.Main.ReloadSecrets(); err == nil {
		t.Fatal("a missing COGNITO_CLIENT_SECRET_FILE was accepted")
	}
	if line := lastLine(t, logs.String(), "secret reload: nothing changed"); !strings.Contains(line, "COGNITO_CLIENT_SECRET_FILE") {
		t.Fatalf("the refusal does not name COGNITO_CLIENT_SECRET_FILE: %s", line)
	}
	write("client-secret", "rotated-client-secret\n")
	for _, b := range []*browser{first, second} {
		if name, _ := b.SessionUser(app.URL); name != "Ada Lovelace" {
			t.Fatalf("after refused reloads a session reads %q", name)
		}
	}
	if loc := signIn(newBrowser(t)); loc != app.URL+"/done" {
		t.Fatalf("a sign-in after refused reloads ended at %s", loc)
	}
	if code := adminStatus(t, app, newSecret); code != http.StatusOK {
		t.Fatalf("after refused reloads the admin endpoint answers %d to the current secret's credential", code)
	}

	// Only the store changed: a warning, nothing rotated.
	write("secret", newSecret+"\n")
	write("store", "bolt:"+filepath.Join(dir, "s.db")+"\n")
	if err := app.Main.ReloadSecrets(); err != nil {
		t.Fatal(err)
	}
	if line := lastLine(t, logs.String(), "take effect only at a restart"); !strings.Contains(line, "level=WARN") || !strings.Contains(line, "SESSION_STORE_FILE") {
		t.Fatalf("a changed SESSION_STORE_FILE: %s", line)
	}
	if !strings.Contains(lastLine(t, logs.String(), "secret reload:"), "no secret changed") {
		t.Fatalf("only the store changed, yet:\n%s", logs.String())
	}
}

// adminStatus is the status of an admin revocation (of nobody) with the
// credential of secret.
func adminStatus(t *testing.T, app *testApp, secret string) int {
	t.Helper()
	cred, err := bff.Options{Secrets: []string{secret}}.AdminCredential()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+app.Main.MetricsAddr()+bff.AdminRevokePath, strings.NewReader(`{"provider":"cognito","sub":"nobody"}`))
	req.Header.Set("Authorization", "Bearer "+cred)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// lastLine is the last line of logs containing s; the test fails when none does.
func lastLine(t *testing.T, logs, s string) string {
	t.Helper()
	lines := strings.Split(logs, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], s) {
			return lines[i]
		}
	}
	t.Fatalf("no log line contains %q:\n%s", s, logs)
	return ""
}
