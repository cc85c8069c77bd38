package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSecretFile writes content to a file in a fresh temp dir and returns its path.
func writeSecretFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const fileTestCognitoID = "COGNITO_CLIENT_ID=abc"

func TestSecretFilesInPlaceOfVariables(t *testing.T) {
	other := strings.Repeat("z", 40)
	c := mustLoad(t,
		"NEXTAUTH_SECRET_FILE="+writeSecretFile(t, secret32+"\n"),
		"NEXTAUTH_SECRET_PREVIOUS_FILE="+writeSecretFile(t, strings.Repeat("p", 32)+"\n"+strings.Repeat("q", 32)+"\n"),
		fileTestCognitoID, "COGNITO_ISSUER=https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
		"COGNITO_CLIENT_SECRET_FILE="+writeSecretFile(t, "cognito-secret\r\n"),
		"AUTH_OKTA_ISSUER=https://example.okta.com", "AUTH_OKTA_ID=okta-client",
		"AUTH_OKTA_SECRET_FILE="+writeSecretFile(t, "okta-secret"),
		"SESSION_STORE_FILE="+writeSecretFile(t, "redis://:pw@127.0.0.1:6379/0\n"),
		"NEXTAUTH_URL=https://app.example.com", "NEXTAUTH_SECRET_UNRELATED="+other,
	)
	if got := secretStrings(c); strings.Join(got, ",") != secret32+","+strings.Repeat("p", 32)+","+strings.Repeat("q", 32) {
		t.Errorf("Secrets = %q: want the file's secret (newline trimmed) then the previous file's lines", got)
	}
	if c.Providers[0].ClientSecret != "cognito-secret" || c.Providers[0].AuthStyle != AuthStylePost {
		t.Errorf("Cognito secret %q (%s): want the file's content, CRLF trimmed", c.Providers[0].ClientSecret, c.Providers[0].AuthStyle)
	}
	if c.Providers[1].ID != "okta" || c.Providers[1].ClientSecret != "okta-secret" {
		t.Errorf("okta provider %+v", c.Providers[1])
	}
	if c.SessionStore != "redis://:pw@127.0.0.1:6379/0" {
		t.Errorf("SessionStore = %q", RedactURL(c.SessionStore))
	}
	if c.GenerateSecret {
		t.Error("GenerateSecret is set although NEXTAUTH_SECRET_FILE gives the secret")
	}
}

func secretStrings(c *Config) []string {
	var out []string
	for _, s := range c.Secrets {
		out = append(out, string(s))
	}
	return out
}

func TestSecretFileAndVariableBothSet(t *testing.T) {
	for name, value := range map[string]string{"NEXTAUTH_SECRET": secret32, "COGNITO_CLIENT_SECRET": secret32,
		"AUTH_OKTA_SECRET": secret32, "SESSION_STORE": "redis://:" + secret32 + "@127.0.0.1:6379"} {
		t.Run(name, func(t *testing.T) {
			_, ps := load(t, "", fileTestCognitoID, "COGNITO_ISSUER=https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
				name+"="+value, name+"_FILE="+writeSecretFile(t, value))
			p, ok := problemFor(ps, name)
			if !ok {
				t.Fatalf("no problem on %s:\n%v", name, ps.Error())
			}
			if s := p.String(); !strings.Contains(s, name+" ") || !strings.Contains(s, name+"_FILE") {
				t.Errorf("problem %q does not name both %s and %s_FILE", s, name, name)
			}
			if strings.Contains(ps.Error(), secret32) {
				t.Error("the secret is in the message")
			}
		})
	}
}

func TestSecretFileInDotenv(t *testing.T) {
	dir := t.TempDir()
	f := writeSecretFile(t, secret32+"\n")
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("NEXTAUTH_SECRET_FILE="+f+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, ps := load(t, dir)
	if ps != nil || len(c.Secrets) != 1 || string(c.Secrets[0]) != secret32 {
		t.Fatalf("secrets %q, problems %v", secretStrings(c), ps)
	}
}

func TestSecretFileProblems(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	for _, c := range []struct {
		name, file, want string
	}{
		{"missing", missing, "cannot read " + missing},
		{"empty", writeSecretFile(t, "\n"), "is empty"},
		{"too large", writeSecretFile(t, strings.Repeat("x", secretFileMax+1)), "larger than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, ps := load(t, "", "NEXTAUTH_SECRET_FILE="+c.file)
			wantProblem(t, ps, "NEXTAUTH_SECRET_FILE", c.want)
		})
	}
	// A short secret from a file is reported under the _FILE variable.
	_, ps := load(t, "", "NEXTAUTH_SECRET_FILE="+writeSecretFile(t, "short\n"))
	wantProblem(t, ps, "NEXTAUTH_SECRET_FILE", "is 5 bytes long")
}

func TestNonSecretFileVariableIgnored(t *testing.T) {
	// Only secret variables read _FILE: PORT_FILE is not a way to set PORT.
	c := mustLoad(t, "PORT_FILE="+writeSecretFile(t, "4000"))
	if c.Port != 3000 {
		t.Errorf("Port = %d", c.Port)
	}
}

func TestIsSecretVar(t *testing.T) {
	for name, want := range map[string]bool{
		"NEXTAUTH_SECRET": true, "AUTH_SECRET": true, "NEXTAUTH_SECRET_PREVIOUS": true, "COGNITO_CLIENT_SECRET": true,
		"AUTH_COGNITO_SECRET": true, "AUTH_OKTA_SECRET": true, "AUTH_APPLE_PRIVATE_KEY": true, "SESSION_STORE": true,
		"AUTH__SECRET": false, "AUTH_A__B_SECRET": false, "AUTH_A_SECRET_": false,
		"AUTH_MICROSOFT_ENTRA_ID_SECRET": true, "AUTH_MICROSOFT_ENTRA_ID_CLIENT_KEY": true, "AUTH_OKTA_CLIENT_KEY": true, "NEXTAUTH_URL": false, "PORT": false, "AUTH_OKTA_ID": false,
	} {
		if IsSecretVar(name) != want {
			t.Errorf("IsSecretVar(%s) = %v", name, !want)
		}
	}
}
