package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// TestGitHubEmailChoice: the primary verified address, else the first
// verified one, never an unverified one; a /user address is verified only
// when /user/emails says so.
func TestGitHubEmailChoice(t *testing.T) {
	var emails string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(emails))
	}))
	defer srv.Close()
	p, err := New(Config{ID: "github", ClientID: "c", ClientSecret: "s", RedirectURL: "http://localhost/cb",
		OAuth2: &OAuth2{AuthorizationURL: srv.URL, TokenURL: srv.URL, UserInfoURL: srv.URL, GitHubAPI: srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		emails, public, want string
		verified             bool
	}{
		{`[{"email":"a@x","primary":false,"verified":true},{"email":"b@x","primary":true,"verified":true}]`, "", "b@x", true},
		{`[{"email":"evil@x","primary":true,"verified":false},{"email":"a@x","primary":false,"verified":true}]`, "", "a@x", true},
		{`[{"email":"evil@x","primary":true,"verified":false}]`, "", "", false},
		{`not json`, "", "", false},
		{`[{"email":"pub@x","primary":true,"verified":true}]`, "pub@x", "pub@x", true},
		{`[]`, "pub@x", "pub@x", false},
	} {
		emails = tc.emails
		c := &Claims{Email: tc.public}
		if err := p.githubEmail(context.Background(), "tok", c); err != nil {
			t.Fatal(err)
		}
		if c.Email != tc.want || c.EmailVerified != tc.verified {
			t.Errorf("%s / %q: %q verified %v, want %q %v", tc.emails, tc.public, c.Email, c.EmailVerified, tc.want, tc.verified)
		}
	}
}

// TestOAuth2ErrorIn200: an error in a 200 form-encoded token answer is a
// *TokenError with the provider's code.
func TestOAuth2ErrorIn200(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "application/json" || r.Header.Get("User-Agent") == "" {
			t.Errorf("headers %v", r.Header)
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		w.Write([]byte("error=bad_verification_code&error_description=The+code+passed+is+incorrect"))
	}))
	defer srv.Close()
	p, err := New(Config{ID: "github", ClientID: "c", ClientSecret: "s", RedirectURL: "http://localhost/cb",
		OAuth2: &OAuth2{AuthorizationURL: srv.URL, TokenURL: srv.URL, UserInfoURL: srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Exchange(context.Background(), "code", NewVerifier(), "")
	var te *Error
	if !errors.As(err, &te) || te.Code != "bad_verification_code" || te.Status != 200 {
		t.Fatalf("err = %v", err)
	}
}

// TestAppleSecretMintedAndRenewed: the secret verifies with the public key
// (iss team, sub client id, aud issuer), is reused while fresh and renewed
// when three quarters of its life are gone.
func TestAppleSecretMintedAndRenewed(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	key, err := ParseAppleKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	p, err := New(Config{ID: "apple", Issuer: "https://appleid.apple.com", ClientID: "com.example.web", RedirectURL: "http://localhost/cb",
		Apple: &AppleKey{TeamID: "T1", KeyID: "K1", Key: key}, Scopes: []string{"name", "email"}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if p.style != AuthStylePost || len(p.scopes) != 2 {
		t.Fatalf("style %v scopes %v", p.style, p.scopes)
	}
	s1, _ := p.MintAppleSecret()
	payload, err := jws.Verify([]byte(s1), jws.WithKey(jwa.ES256, &k.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = json.Unmarshal(payload, &c)
	if c["iss"] != "T1" || c["sub"] != "com.example.web" || c["aud"] != "https://appleid.apple.com" {
		t.Fatalf("claims %v", c)
	}
	now = now.Add(AppleSecretLifetime / 2)
	if s2, _ := p.MintAppleSecret(); s2 != s1 {
		t.Error("a fresh secret was re-minted")
	}
	now = now.Add(AppleSecretLifetime / 2)
	if s3, _ := p.MintAppleSecret(); s3 == s1 {
		t.Error("an expiring secret was not renewed")
	}
	for _, bad := range []string{"", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"} {
		if _, err := ParseAppleKey([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseAppleUser(t *testing.T) {
	for in, want := range map[string]string{
		`{"name":{"firstName":"Tim","lastName":"Apple"},"email":"a@b"}`: "Tim Apple",
		`{"name":{"firstName":"Tim"}}`:                                  "Tim",
		``:                                                              "",
	} {
		if got, err := ParseAppleUser(in); err != nil || got != want {
			t.Errorf("%s: %q %v", in, got, err)
		}
	}
	if _, err := ParseAppleUser("{"); err == nil {
		t.Error("garbage accepted")
	}
}
