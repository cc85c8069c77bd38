package api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/testkit/fakeop"
)

// TestSecretFiles: NEXTAUTH_SECRET_FILE and COGNITO_CLIENT_SECRET_FILE work
// in place of the variables (a sign-in needs the client secret at the token
// endpoint and the session secret to seal the session); both forms of one
// is a start-up error naming both.
func TestSecretFiles(t *testing.T) {
	f := fakeop.New(t, fakeop.Options{Cognito: true})
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o400); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := map[string]string{
		"COGNITO_CLIENT_ID": f.ClientID, "COGNITO_ISSUER": f.Issuer(), "NEXTAUTH_URL": "auto",
		"SESSION_STORE": "memory", "AUTH_FEDERATED_SIGNOUT": "0",
		// As Kubernetes and Docker mount them: the value and a newline.
		"NEXTAUTH_SECRET_FILE":       write("nextauth-secret", "file-secret-file-secret-file-secret-0123\n"),
		"COGNITO_CLIENT_SECRET_FILE": write("client-secret", f.Secret+"\n"),
	}
	app := startApp(t, env)
	b := newBrowser(t)
	cb := b.Get(location(t, b.Get(b.StartSignIn(app.URL, "cognito", app.URL+"/done"))))
	if loc := location(t, cb); loc != app.URL+"/done" {
		t.Fatalf("sign-in with the secrets from files ended at %s (the token endpoint refuses a wrong client secret)", loc)
	}
	if name, _ := b.SessionUser(app.URL); name != "Ada Lovelace" {
		t.Fatalf("session user %q after the sign-in", name)
	}
	app.Close()

	for _, name := range []string{"NEXTAUTH_SECRET", "COGNITO_CLIENT_SECRET"} {
		both := cloneEnv(env)
		both[name] = "file-secret-file-secret-file-secret-0123"
		both["PORT"], both["METRICS_ADDR"], both["AUTHBFF_DATA_DIR"] = "0", "", t.TempDir()
		_, err := New(Options{Source: envSource(both, t.TempDir()), Listener: listenLoopback(t)})
		if err == nil {
			t.Fatalf("%s and %s_FILE both set: New succeeded", name, name)
		}
		if msg := err.Error(); !strings.Contains(msg, name+" ") || !strings.Contains(msg, name+"_FILE") {
			t.Errorf("%s and %s_FILE both set: error %q does not name both", name, name, msg)
		}
	}
}
