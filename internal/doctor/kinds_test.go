package doctor_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/doctor"
)

// TestDoctorGitHub: doctor checks a GitHub client by a token call with a
// made-up code, as GitHub answers it (status 200, form-encoded):
// bad_verification_code means the id and secret are right,
// incorrect_client_credentials names the variables and the console page.
func TestDoctorGitHub(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login/oauth/authorize":
			io.WriteString(w, "<html>Sign in to GitHub</html>")
		case "/login/oauth/access_token":
			_ = r.ParseForm()
			code := "bad_verification_code"
			if r.PostForm.Get("client_secret") != "good" {
				code = "incorrect_client_credentials"
			}
			w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
			io.WriteString(w, url.Values{"error": {code}}.Encode())
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	for secret, want := range map[string][]string{
		"good":  {"ok   [github] token endpoint accepts the client id and secret", "ok   [github] plain OAuth 2.0", "/user/emails"},
		"wrong": {"FAIL [github] token endpoint answered incorrect_client_credentials", "AUTH_GITHUB_SECRET", "OAuth Apps"},
	} {
		set, providers := doctorSettings(t, map[string]string{"AUTH_GITHUB_ID": "gh", "AUTH_GITHUB_SECRET": secret,
			"AUTH_GITHUB_ENTERPRISE_URL": srv.URL, "NEXTAUTH_URL": "http://127.0.0.1:3999", "NEXTAUTH_SECRET": strings.Repeat("k", 32)})
		var out bytes.Buffer
		if ok := doctor.Run(context.Background(), set, providers, nil, &out); ok != (secret == "good") {
			t.Errorf("%s: doctor ok = %v:\n%s", secret, ok, out.String())
		}
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", secret, w, out.String())
			}
		}
	}
}

// TestDoctorAppleKey: doctor mints Apple's client secret from the key.
func TestDoctorAppleKey(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	set, providers := doctorSettings(t, map[string]string{"AUTH_APPLE_ID": "com.example.web", "AUTH_APPLE_TEAM_ID": "T1",
		"AUTH_APPLE_KEY_ID": "K1", "AUTH_APPLE_PRIVATE_KEY": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"AUTH_APPLE_ISSUER": "http://127.0.0.1:1", "NEXTAUTH_URL": "http://127.0.0.1:3999", "NEXTAUTH_SECRET": strings.Repeat("k", 32)})
	var out bytes.Buffer
	doctor.Run(context.Background(), set, providers, nil, &out)
	if !strings.Contains(out.String(), "ok   [apple] Apple: the .p8 key parses and a client secret (ES256, iss T1, sub com.example.web)") {
		t.Errorf("output:\n%s", out.String())
	}
}
