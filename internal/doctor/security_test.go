package doctor_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/doctor"
	"github.com/authbff/authbff/internal/oidc"
)

// TestDoctorSecurity: doctor reports the private_key_jwt key against the
// JWKS the running authbff publishes, the PAR endpoint, DPoP support.
func TestDoctorSecurity(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	keyFile := filepath.Join(t.TempDir(), "k.pem")
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	keys, _ := oidc.ParseClientKeys(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), "k1")
	published, _ := oidc.PublicJWKS(keys)
	var srv *httptest.Server
	var publish []byte
	var dpopAlgs []string
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/auth",
				"token_endpoint": srv.URL + "/token", "jwks_uri": srv.URL + "/keys", "pushed_authorization_request_endpoint": srv.URL + "/par",
				"require_pushed_authorization_requests": true, "dpop_signing_alg_values_supported": dpopAlgs})
		case "/api/auth/jwks":
			if publish == nil {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write(publish)
		case "/par":
			w.WriteHeader(http.StatusUnauthorized)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	env := map[string]string{"AUTH_OKTA_ISSUER": srv.URL, "AUTH_OKTA_ID": "c", "AUTH_OKTA_AUTH_STYLE": "private_key_jwt",
		"AUTH_OKTA_CLIENT_KEY_FILE": keyFile, "AUTH_OKTA_CLIENT_KEY_ID": "k1", "AUTH_OKTA_DPOP": "1",
		"NEXTAUTH_URL": srv.URL, "NEXTAUTH_SECRET": strings.Repeat("k", 32)}
	for _, tt := range []struct {
		publish []byte
		algs    []string
		want    []string
	}{
		{published, []string{"ES256"}, []string{"ok   [okta] private_key_jwt: 1 key parse", "publishes every configured key",
			"ok   [okta] pushed authorization requests (RFC 9126) to " + srv.URL + "/par (the provider requires them): the endpoint answers",
			"ok   [okta] DPoP: the provider lists ES256"}},
		{[]byte(`{"keys":[]}`), []string{"RS256"}, []string{"FAIL [okta] private_key_jwt: the running authbff's", "lacks the key k1",
			"FAIL [okta] DPoP is on, but"}},
	} {
		publish, dpopAlgs = tt.publish, tt.algs
		set, providers := doctorSettings(t, env)
		var out bytes.Buffer
		doctor.Run(context.Background(), set, providers, nil, &out)
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("report lacks %q:\n%s", w, out.String())
			}
		}
	}
}
