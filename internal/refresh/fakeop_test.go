package refresh_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// profileOP is an OpenID provider shaped like panva's oidc-provider with
// its defaults: ES256 ID tokens that carry identity only (iss, sub, aud,
// exp, iat, nonce), the profile served at userinfo, refresh tokens rotated.
type profileOP struct {
	srv       *httptest.Server
	key       *ecdsa.PrivateKey
	grants    atomic.Int32 // token requests
	userinfoN atomic.Int32
}

func newProfileOP(t *testing.T) *profileOP {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	op := &profileOP{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		u := op.srv.URL
		writeJSON(w, map[string]any{
			"issuer": u, "authorization_endpoint": u + "/auth", "token_endpoint": u + "/token",
			"userinfo_endpoint": u + "/me", "jwks_uri": u + "/jwks",
			"id_token_signing_alg_values_supported": []string{"ES256"},
			"scopes_supported":                      []string{"openid", "offline_access", "profile", "email"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		pub, _ := jwk.FromRaw(key.Public())
		_ = pub.Set(jwk.KeyIDKey, "es1")
		_ = pub.Set(jwk.AlgorithmKey, jwa.ES256)
		set := jwk.NewSet()
		_ = set.AddKey(pub)
		writeJSON(w, set)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		n := op.grants.Add(1)
		_ = r.ParseForm()
		claims := map[string]any{
			"iss": op.srv.URL, "sub": "ada-sub", "aud": clientID,
			"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
		}
		if r.PostForm.Get("grant_type") == "authorization_code" {
			claims["nonce"] = "nonce-1"
		}
		writeJSON(w, map[string]any{
			"access_token": fmt.Sprintf("access-%d", n), "refresh_token": fmt.Sprintf("refresh-%d", n),
			"token_type": "Bearer", "expires_in": 3600, "id_token": op.sign(t, claims),
		})
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		op.userinfoN.Add(1)
		if r.Header.Get("Authorization") != fmt.Sprintf("Bearer access-%d", op.grants.Load()) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		writeJSON(w, map[string]any{"sub": "ada-sub", "name": "Ada Lovelace", "email": "ada@example.com", "email_verified": true})
	})
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

func (op *profileOP) sign(t *testing.T, claims map[string]any) string {
	payload, _ := json.Marshal(claims)
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, "es1")
	out, err := jws.Sign(payload, jws.WithKey(jwa.ES256, op.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Error(err)
	}
	return string(out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func bg() context.Context { return context.Background() }
