package oidc

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

func TestVerifyIDToken(t *testing.T) {
	rsaSigner, rsaPub := newRSA(t, "k1")
	ecSigner, ecPub := newEC(t, "ec1")
	otherSigner, _ := newRSA(t, "k1") // same kid, unpublished key
	strangerSigner, _ := newRSA(t, "stranger")
	pubDER, err := x509.MarshalPKIXPublicKey(rsaSigner.priv.(*rsa.PrivateKey).Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	op := newFakeOP(t, rsaPub, ecPub)
	with := func(mut func(map[string]any)) map[string]any {
		c := op.claims()
		mut(c)
		return c
	}
	now := op.clock.Now()

	tests := []struct {
		name    string
		token   func() string
		cognito bool
		nonce   string
		reason  string // "" = accept; else substring of the error
	}{
		{name: "baseline", token: func() string { return sign(t, rsaSigner, op.claims()) }},
		{name: "aud as array", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { c["aud"] = []string{testClientID} }))
		}},
		{name: "aud array with extra and azp", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { c["aud"] = []string{testClientID, "api"}; c["azp"] = testClientID }))
		}},
		{name: "exp 30s ago within skew", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { c["exp"] = now.Add(-30 * time.Second).Unix() }))
		}},
		{name: "no nonce expected", nonce: "-", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { delete(c, "nonce") }))
		}},
		{name: "bad signature", reason: "signature", token: func() string {
			tok := sign(t, rsaSigner, op.claims())
			b := []byte(tok)
			i := len(b) - 5
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			return string(b)
		}},
		{name: "signed by unpublished key with known kid", reason: "signature", token: func() string { return sign(t, otherSigner, op.claims()) }},
		{name: "alg none", reason: "alg", token: func() string { return unsigned(t, op.claims()) }},
		{name: "ES256 when RS256 expected", reason: "alg", token: func() string { return sign(t, ecSigner, op.claims()) }},
		{name: "HS256 with client secret", reason: "alg", token: func() string {
			return sign(t, signer{priv: []byte(testClientSecret), kid: "k1", alg: jwa.HS256}, op.claims())
		}},
		{name: "HS256 with RSA public key bytes", reason: "alg", token: func() string {
			return sign(t, signer{priv: pubPEM, kid: "k1", alg: jwa.HS256}, op.claims())
		}},
		{name: "key not in jwks", reason: "no matching key", token: func() string { return sign(t, strangerSigner, op.claims()) }},
		{name: "iss off by one char", reason: "iss mismatch", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { c["iss"] = op.issuer + "x" }))
		}},
		{name: "iss missing", reason: "iss missing", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { delete(c, "iss") }))
		}},
		{name: "aud other client", reason: "aud", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { c["aud"] = "someone-else" }))
		}},
		{name: "aud missing", reason: "aud missing", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { delete(c, "aud") }))
		}},
		{name: "aud array extra without azp", reason: "azp is missing", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { c["aud"] = []string{testClientID, "evil"} }))
		}},
		{name: "azp other client", reason: "azp", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { c["azp"] = "evil" }))
		}},
		{name: "exp 6 minutes ago", reason: "expired", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { c["exp"] = now.Add(-6 * time.Minute).Unix() }))
		}},
		{name: "exp missing", reason: "exp missing", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { delete(c, "exp") }))
		}},
		{name: "exp not a number", reason: "exp", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { c["exp"] = "tomorrow" }))
		}},
		{name: "iat missing", reason: "iat missing", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { delete(c, "iat") }))
		}},
		{name: "iat far in the future", reason: "iat in the future", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { c["iat"] = now.Add(time.Hour).Unix() }))
		}},
		{name: "iat a week old", reason: "iat older", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { c["iat"] = now.Add(-7 * 24 * time.Hour).Unix() }))
		}},
		{name: "nbf in the future", reason: "nbf", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { c["nbf"] = now.Add(10 * time.Minute).Unix() }))
		}},
		{name: "sub missing", reason: "sub missing", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { delete(c, "sub") }))
		}},
		{name: "nonce wrong", reason: "nonce mismatch", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { c["nonce"] = "other" }))
		}},
		{name: "nonce missing", reason: "nonce missing", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { delete(c, "nonce") }))
		}},
		{name: "cognito token_use access", cognito: true, reason: "token_use", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { c["token_use"] = "access" }))
		}},
		{name: "cognito token_use missing", cognito: true, reason: "token_use", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { delete(c, "token_use") }))
		}},
		{name: "generic provider ignores token_use", token: func() string {
			return sign(t, rsaSigner, with(func(c map[string]any) { c["token_use"] = "access" }))
		}},
		{name: "not a jws", reason: "compact", token: func() string { return "abc.def" }},
	}
	p := newProvider(t, op, func(c *Config) { c.Cognito = false })
	pc := newProvider(t, op, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prov := p
			if tt.cognito {
				prov = pc
			}
			nonce := testNonce
			if tt.nonce == "-" {
				nonce = ""
			}
			c, err := prov.VerifyIDToken(context.Background(), tt.token(), nonce)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("want accept, got %v", err)
				}
				if c.Subject != "user-1" || c.Issuer != op.issuer {
					t.Fatalf("claims = %+v", c)
				}
				return
			}
			if !errors.Is(err, ErrInvalidIDToken) {
				t.Fatalf("want ErrInvalidIDToken, got %v", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("error %q does not mention %q", err, tt.reason)
			}
		})
	}
}

func TestVerifyClaimsDecoded(t *testing.T) {
	s, pub := newRSA(t, "k1")
	op := newFakeOP(t, pub)
	p := newProvider(t, op, nil)
	c, err := p.VerifyIDToken(context.Background(), sign(t, s, op.claims()), testNonce)
	if err != nil {
		t.Fatal(err)
	}
	if c.CognitoUsername != "ada" || c.DisplayName() != "ada" || c.Email != "ada@example.com" || !c.EmailVerified {
		t.Errorf("profile claims = %+v", c)
	}
	if strings.Join(c.Groups, ",") != "admins,users" {
		t.Errorf("groups = %v", c.Groups)
	}
	if !c.Expiry.Equal(t0.Add(time.Hour)) || !c.IssuedAt.Equal(t0) {
		t.Errorf("exp/iat = %v/%v", c.Expiry, c.IssuedAt)
	}
	if len(c.Audience) != 1 || c.Audience[0] != testClientID {
		t.Errorf("aud = %v", c.Audience)
	}
}

func TestVerifyKidAbsent(t *testing.T) {
	s1, pub1 := newRSA(t, "k1")
	_, pub2 := newRSA(t, "k2")
	_, ecPub := newEC(t, "ec")
	noKid := s1
	noKid.kid = ""

	t.Run("one matching key accepted", func(t *testing.T) {
		op := newFakeOP(t, pub1, ecPub) // the EC key does not fit RS256
		p := newProvider(t, op, nil)
		if _, err := p.VerifyIDToken(context.Background(), sign(t, noKid, op.claims()), testNonce); err != nil {
			t.Fatalf("want accept, got %v", err)
		}
	})
	t.Run("several matching keys rejected", func(t *testing.T) {
		op := newFakeOP(t, pub1, pub2)
		p := newProvider(t, op, nil)
		_, err := p.VerifyIDToken(context.Background(), sign(t, noKid, op.claims()), testNonce)
		if !errors.Is(err, ErrInvalidIDToken) {
			t.Fatalf("want ErrInvalidIDToken, got %v", err)
		}
	})
}

func TestVerifyKeyRotationAndRefetchRateLimit(t *testing.T) {
	s1, pub1 := newRSA(t, "k1")
	s2, pub2 := newRSA(t, "k2")
	s3, _ := newRSA(t, "k3")
	op := newFakeOP(t, pub1)
	p := newProvider(t, op, nil)
	ctx := context.Background()
	verify := func(s signer) error {
		t.Helper()
		_, err := p.VerifyIDToken(ctx, sign(t, s, op.claims()), testNonce)
		return err
	}
	step := func(name string, s signer, wantOK bool, wantFetches int32) {
		t.Helper()
		err := verify(s)
		if (err == nil) != wantOK {
			t.Fatalf("%s: err = %v, want ok=%v", name, err, wantOK)
		}
		if !wantOK && !errors.Is(err, ErrInvalidIDToken) {
			t.Fatalf("%s: want ErrInvalidIDToken, got %v", name, err)
		}
		if got := op.jwksHits.Load(); got != wantFetches {
			t.Fatalf("%s: jwks fetches = %d, want %d", name, got, wantFetches)
		}
	}
	step("first key", s1, true, 1)
	step("cached", s1, true, 1)
	op.publish(pub1, pub2)
	step("rotated key: one refetch then accept", s2, true, 2)
	step("unknown key right after: refetch rate-limited", s3, false, 2)
	step("again: still rate-limited", s3, false, 2)
	op.clock.Add(11 * time.Second)
	step("after 10 s: one refetch, still unknown", s3, false, 3)
	step("and limited again", s3, false, 3)
	step("known keys unaffected", s2, true, 3)
}

func TestVerifyConcurrent(t *testing.T) {
	s, pub := newRSA(t, "k1")
	op := newFakeOP(t, pub)
	p := newProvider(t, op, nil)
	tok := sign(t, s, op.claims())
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := p.VerifyIDToken(context.Background(), tok, testNonce)
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if d, j := op.discHits.Load(), op.jwksHits.Load(); d != 1 || j != 1 {
		t.Fatalf("discovery hits %d, jwks hits %d; want 1 and 1", d, j)
	}
}
