package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestClientKeyAndPARVariables(t *testing.T) {
	file := filepath.Join(t.TempDir(), "k.pem")
	if err := os.WriteFile(file, []byte("-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"NEXTAUTH_SECRET=" + secret32, "AUTH_OKTA_ISSUER=https://okta.example.com", "AUTH_OKTA_ID=c"}
	c := mustLoad(t, append(base, "AUTH_OKTA_AUTH_STYLE=private_key_jwt", "AUTH_OKTA_CLIENT_KEY_FILE="+file,
		"AUTH_OKTA_CLIENT_KEY_ID=k1", "AUTH_OKTA_PAR=always")...)
	p := c.Providers[0]
	if p.AuthStyle != AuthStylePrivateKeyJWT || p.ClientKey == "" || p.ClientKeyID != "k1" || p.PAR != "always" {
		t.Fatalf("%+v", p)
	}
	c = mustLoad(t, append(base, "AUTH_OKTA_AUTH_STYLE=client_secret_jwt", "AUTH_OKTA_SECRET=s")...)
	if p := c.Providers[0]; p.AuthStyle != AuthStyleSecretJWT || p.PAR != "" {
		t.Fatalf("%+v", p)
	}
	_, ps := load(t, "", append(base, "AUTH_OKTA_AUTH_STYLE=private_key_jwt")...)
	wantProblem(t, ps, "AUTH_OKTA_CLIENT_KEY_FILE", "is not set")
	_, ps = load(t, "", append(base, "AUTH_OKTA_AUTH_STYLE=private_key_jwt", "AUTH_OKTA_CLIENT_KEY=x", "AUTH_OKTA_SECRET=s")...)
	wantProblem(t, ps, "AUTH_OKTA_SECRET", "private_key_jwt")
	_, ps = load(t, "", append(base, "AUTH_OKTA_CLIENT_KEY=x", "AUTH_OKTA_PAR=sometimes")...)
	wantProblem(t, ps, "AUTH_OKTA_CLIENT_KEY", "not private_key_jwt")
	wantProblem(t, ps, "AUTH_OKTA_PAR", "not auto")
	_, ps = load(t, "", append(base, "AUTH_OKTA_AUTH_STYLE=client_secret_jwt")...)
	wantProblem(t, ps, "AUTH_OKTA_AUTH_STYLE", "client_secret_jwt")
}
