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

func TestClientAssertionAudience(t *testing.T) {
	base := []string{"NEXTAUTH_SECRET=" + secret32, "AUTH_OKTA_ISSUER=https://okta.example.com", "AUTH_OKTA_ID=c",
		"AUTH_OKTA_AUTH_STYLE=private_key_jwt", "AUTH_OKTA_CLIENT_KEY=k"}
	if p := mustLoad(t, append(base, "AUTH_OKTA_CLIENT_ASSERTION_AUD=token_endpoint")...).Providers[0]; p.ClientAssertionAudience != "token_endpoint" {
		t.Fatalf("%+v", p)
	}
	_, ps := load(t, "", append(base, "AUTH_OKTA_CLIENT_ASSERTION_AUD=both")...)
	wantProblem(t, ps, "AUTH_OKTA_CLIENT_ASSERTION_AUD", "not issuer or token_endpoint")
	c := mustLoad(t, "NEXTAUTH_SECRET="+secret32, "AUTH_MICROSOFT_ENTRA_ID_ID=c", "AUTH_MICROSOFT_ENTRA_ID_ISSUER=https://login.microsoftonline.com/0b9c2f1a-1111-4222-8333-944445555666/v2.0",
		"AUTH_MICROSOFT_ENTRA_ID_AUTH_STYLE=private_key_jwt", "AUTH_MICROSOFT_ENTRA_ID_CLIENT_KEY=k")
	if p := c.Providers[0]; p.ClientKey != "k" || p.ClientAssertionAudience != "token_endpoint" {
		t.Fatalf("entra: %+v", p)
	}
}
