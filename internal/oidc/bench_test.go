package oidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// BenchmarkVerifyIDToken verifies a Cognito-shaped RS256 ID token against
// keys served by an httptest JWKS (fetched once, then cached): the per
// sign-in cost of the signature and claim checks.
func BenchmarkVerifyIDToken(b *testing.B) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	pub, err := jwk.FromRaw(priv.Public())
	if err != nil {
		b.Fatal(err)
	}
	_ = pub.Set(jwk.KeyIDKey, "k1")
	_ = pub.Set(jwk.AlgorithmKey, jwa.RS256)
	_ = pub.Set(jwk.KeyUsageKey, jwk.ForSignature)

	var issuer string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pool/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		base := "http://" + r.Host
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": issuer, "authorization_endpoint": base + "/oauth2/authorize",
			"token_endpoint": base + "/oauth2/token", "userinfo_endpoint": base + "/oauth2/userInfo",
			"jwks_uri":                              issuer + "/.well-known/jwks.json",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /pool/.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		set := jwk.NewSet()
		_ = set.AddKey(pub)
		_ = json.NewEncoder(w).Encode(set)
	})
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	issuer = srv.URL + "/pool"

	p, err := New(Config{
		ID: "cognito", Issuer: issuer, ClientID: "client-123", ClientSecret: "s",
		RedirectURL: "http://localhost:3000/api/auth/callback/cognito", Cognito: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	payload, _ := json.Marshal(map[string]any{
		"iss": issuer, "sub": "0b1f6a2e-8c1d-4d8e-9a51-3c2f7e6d5a01", "aud": "client-123",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "auth_time": now.Unix(),
		"nonce": "nonce-abc", "token_use": "id", "email": "ada@example.com", "email_verified": true,
		"cognito:username": "ada", "cognito:groups": []string{"admins"}, "name": "Ada Lovelace",
		"picture": "https://upload.wikimedia.org/wikipedia/commons/a/a4/Ada_Lovelace_portrait.jpg",
	})
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, "k1")
	_ = hdr.Set(jws.TypeKey, "JWT")
	raw, err := jws.Sign(payload, jws.WithKey(jwa.RS256, priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.VerifyIDToken(ctx, string(raw), "nonce-abc"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.VerifyIDToken(ctx, string(raw), "nonce-abc"); err != nil {
			b.Fatal(err)
		}
	}
}
