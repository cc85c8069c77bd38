package oidc

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// atHashFor is at_hash for alg: the left half of the alg's hash.
func atHashFor(t *testing.T, alg jwa.SignatureAlgorithm, accessToken string) string {
	t.Helper()
	switch alg {
	case jwa.RS256, jwa.PS256, jwa.ES256:
		return atHash(accessToken)
	case jwa.EdDSA, jwa.RS512, jwa.ES512, jwa.PS512:
		sum := sha512.Sum512([]byte(accessToken))
		return base64.RawURLEncoding.EncodeToString(sum[:32])
	}
	t.Fatalf("atHashFor: %s", alg)
	return ""
}

// TestExchangeSigningAlgorithms signs a person in through Exchange with
// providers that sign ID tokens in various algorithms, as their discovery
// document announces, and checks what must still be refused.
func TestExchangeSigningAlgorithms(t *testing.T) {
	keys := map[jwa.SignatureAlgorithm]signer{}
	var published []jwk.Key
	for _, alg := range []jwa.SignatureAlgorithm{jwa.RS256, jwa.PS256, jwa.ES256, jwa.ES512, jwa.EdDSA} {
		s, pub := newSigner(t, alg, "k-"+alg.String())
		keys[alg] = s
		published = append(published, pub)
	}
	hsSecret := signer{priv: []byte(testClientSecret), kid: "k-RS256", alg: jwa.HS256}

	tests := []struct {
		name     string
		listed   []string // discovery's id_token_signing_alg_values_supported; nil = absent
		cognito  bool
		override []string // Config.AllowedAlgs
		token    func(op *fakeOP) string
		wantAlgs []string
		reason   string // "" = signed in
	}{
		{name: "ES256 provider (oidc-provider, Hydra with ES256 keys)", listed: []string{"ES256"},
			token: signedWith(t, keys[jwa.ES256]), wantAlgs: []string{"ES256"}},
		{name: "EdDSA provider", listed: []string{"EdDSA"},
			token: signedWith(t, keys[jwa.EdDSA]), wantAlgs: []string{"EdDSA"}},
		{name: "ES512 among several", listed: []string{"RS256", "ES512", "PS256"},
			token: signedWith(t, keys[jwa.ES512]), wantAlgs: []string{"RS256", "PS256", "ES512"}},
		{name: "PS256", listed: []string{"PS256", "RS256"},
			token: signedWith(t, keys[jwa.PS256]), wantAlgs: []string{"RS256", "PS256"}},
		{name: "RS256 when discovery lists only ES256", listed: []string{"ES256"},
			token: signedWith(t, keys[jwa.RS256]), wantAlgs: []string{"ES256"}, reason: `alg "RS256" not allowed`},
		{name: "HS256 keyed with the client secret, although listed", listed: []string{"HS256", "ES256"},
			token: signedWith(t, hsSecret), wantAlgs: []string{"ES256"}, reason: `alg "HS256" not allowed`},
		{name: "none, although listed", listed: []string{"none", "ES256"},
			token: func(op *fakeOP) string { return unsigned(t, op.claims()) }, wantAlgs: []string{"ES256"}, reason: `alg "none" not allowed`},
		{name: "discovery lists only HS256: RS256 assumed", listed: []string{"HS256"},
			token: signedWith(t, keys[jwa.RS256]), wantAlgs: []string{"RS256"}},
		{name: "discovery lists only HS256: HS256 refused", listed: []string{"HS256"},
			token: signedWith(t, hsSecret), wantAlgs: []string{"RS256"}, reason: `alg "HS256" not allowed`},
		{name: "discovery lists nothing: RS256", listed: nil,
			token: signedWith(t, keys[jwa.RS256]), wantAlgs: []string{"RS256"}},
		{name: "discovery lists nothing: ES256 refused", listed: nil,
			token: signedWith(t, keys[jwa.ES256]), wantAlgs: []string{"RS256"}, reason: "not allowed"},
		{name: "Cognito stays RS256 whatever discovery lists", listed: []string{"RS256", "ES256"}, cognito: true,
			token: signedWith(t, keys[jwa.ES256]), wantAlgs: []string{"RS256"}, reason: `alg "ES256" not allowed`},
		{name: "override accepts an unlisted alg", listed: []string{"RS256"}, override: []string{"ES256"},
			token: signedWith(t, keys[jwa.ES256]), wantAlgs: []string{"ES256"}},
		{name: "override replaces the listed algs", listed: []string{"RS256"}, override: []string{"ES256"},
			token: signedWith(t, keys[jwa.RS256]), wantAlgs: []string{"ES256"}, reason: `alg "RS256" not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := newFakeOP(t, published...)
			op.discMut = func(d map[string]any) {
				if tt.listed == nil {
					delete(d, "id_token_signing_alg_values_supported")
				} else {
					d["id_token_signing_alg_values_supported"] = tt.listed
				}
			}
			p := newProvider(t, op, func(c *Config) {
				c.ID, c.Cognito, c.AllowedAlgs = "okta", tt.cognito, tt.override
			})
			op.setToken(tokenOK(tt.token(op), nil))
			res, err := p.Exchange(context.Background(), "code", "verifier", testNonce)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Exchange refused: %v", err)
				}
				if res.Claims.Subject != "user-1" || res.Claims.Email != "ada@example.com" {
					t.Fatalf("claims = %+v", res.Claims)
				}
			} else if !errors.Is(err, ErrInvalidIDToken) || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("err = %v, want ErrInvalidIDToken mentioning %q", err, tt.reason)
			}
			got, err := p.IDTokenAlgs(context.Background())
			if err != nil || !slices.Equal(got, tt.wantAlgs) {
				t.Fatalf("IDTokenAlgs = %v, %v; want %v", got, err, tt.wantAlgs)
			}
		})
	}
}

// signedWith returns a token source signing the fake's valid claims, with
// a correct at_hash for "access-1", with s.
func signedWith(t *testing.T, s signer) func(op *fakeOP) string {
	return func(op *fakeOP) string {
		c := op.claims()
		if s.alg != jwa.HS256 {
			c["at_hash"] = atHashFor(t, s.alg, "access-1")
		}
		return sign(t, s, c)
	}
}

// TestAlgConfusionAcrossKeyTypes: a token whose header names an allowed alg
// but whose kid points at a key of another type, or at a key published for
// another alg, is refused.
func TestAlgConfusionAcrossKeyTypes(t *testing.T) {
	ec, ecPub := newSigner(t, jwa.ES256, "ec")
	rs, rsPub := newSigner(t, jwa.RS256, "rs")
	op := newFakeOP(t, ecPub, rsPub)
	op.discMut = func(d map[string]any) {
		d["id_token_signing_alg_values_supported"] = []string{"RS256", "ES256", "PS256"}
	}
	p := newProvider(t, op, func(c *Config) { c.Cognito = false })
	tests := map[string]signer{
		"ES256 header, RSA key's kid":          {priv: ec.priv, kid: "rs", alg: jwa.ES256},
		"PS256 with a key published for RS256": {priv: rs.priv, kid: "rs", alg: jwa.PS256},
	}
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := p.VerifyIDToken(context.Background(), sign(t, s, op.claims()), testNonce)
			if !errors.Is(err, ErrInvalidIDToken) {
				t.Fatalf("err = %v, want ErrInvalidIDToken", err)
			}
		})
	}
}

// TestDiscoveryDownStillRefusesNone: none and HS* are refused before any
// network call, so an outage cannot turn them into "try again".
func TestDiscoveryDownStillRefusesNone(t *testing.T) {
	op := newFakeOP(t)
	p := newProvider(t, op, func(c *Config) { c.Cognito = false })
	op.srv.Close()
	for _, tok := range []string{
		unsigned(t, op.claims()),
		sign(t, signer{priv: []byte(testClientSecret), alg: jwa.HS256}, op.claims()),
	} {
		_, err := p.VerifyIDToken(context.Background(), tok, testNonce)
		if !errors.Is(err, ErrInvalidIDToken) || errors.Is(err, ErrDiscovery) {
			t.Fatalf("err = %v, want ErrInvalidIDToken without a discovery attempt", err)
		}
	}
	if n := op.discHits.Load(); n != 0 {
		t.Fatalf("%d discovery requests for tokens refused by their header", n)
	}
}
