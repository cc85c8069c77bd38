package bff_test

import (
	"strings"
	"testing"

	"github.com/authbff/authbff/bff"
)

// TestClientAuthOptionsNamedByField: the key-based client authentication
// and PAR options' problems by field path.
func TestClientAuthOptionsNamedByField(t *testing.T) {
	_, err := newBFF(bff.Options{Providers: []bff.Provider{
		{ID: "a", Issuer: "https://a.example", ClientID: "x", AuthStyle: bff.AuthStylePrivateKeyJWT, ClientSecret: "s"},
		{ID: "b", Issuer: "https://b.example", ClientID: "x", AuthStyle: bff.AuthStylePrivateKeyJWT, ClientKey: "not pem"},
		{ID: "c", Issuer: "https://c.example", ClientID: "x", ClientKey: "k", PAR: "sometimes"},
		{ID: "d", Issuer: "https://d.example", ClientID: "x", AuthStyle: bff.AuthStyleSecretJWT, ClientAssertionAudience: "both"},
	}})
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		"Providers[0].ClientSecret is set, but AuthStyle is private_key_jwt", "Providers[0].ClientKey is empty",
		"Providers[1].ClientKey", "no PEM private key",
		"Providers[2].PAR", "Providers[2].ClientKey is set, but AuthStyle",
		"Providers[3].AuthStyle is client_secret_jwt, but ClientSecret is empty", `Providers[3].ClientAssertionAudience "both"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}

// TestJWKSWithoutKeys: <base>/jwks is 404 not_found without a client key.
func TestJWKSWithoutKeys(t *testing.T) {
	op := newProvOP(t, nil)
	app := startProv(t, map[string]string{"AUTH_ACME_ISSUER": op.Issuer(), "AUTH_ACME_ID": "c", "AUTH_ACME_SECRET": "s"})
	resp, body := newProvBrowser(t).get(app.URL + "/api/auth/jwks")
	if resp.StatusCode != 404 || !strings.Contains(string(body), `"not_found"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}
