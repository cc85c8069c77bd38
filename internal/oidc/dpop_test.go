package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

type proofClaims struct {
	JTI, HTM, HTU, ATH, Nonce string
	IAT                       int64
}

func parseProof(t *testing.T, proof string) (proofClaims, string) {
	t.Helper()
	msg, err := jws.Parse([]byte(proof))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	if h.Type() != "dpop+jwt" || h.JWK() == nil {
		t.Fatalf("proof header typ %q jwk %v", h.Type(), h.JWK())
	}
	if _, err := jws.Verify([]byte(proof), jws.WithKey(jwa.ES256, h.JWK())); err != nil {
		t.Fatal(err)
	}
	var c proofClaims
	_ = json.Unmarshal(msg.Payload(), &c)
	return c, h.JWK().KeyType().String()
}

func TestDPoPProofClaims(t *testing.T) {
	k, _ := NewDPoPKey()
	p, err := DPoPProof(k, "GET", "https://api.example/v1/x?q=1#f", "tok", "n1", 1700000000)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := parseProof(t, p)
	sum := sha256.Sum256([]byte("tok"))
	if c.HTM != "GET" || c.HTU != "https://api.example/v1/x" || c.ATH != base64.RawURLEncoding.EncodeToString(sum[:]) || c.Nonce != "n1" || c.IAT != 1700000000 || c.JTI == "" {
		t.Fatalf("%+v", c)
	}
	enc, _ := MarshalDPoPKey(k)
	k2, err := ParseDPoPKey(enc)
	if err != nil || !k2.Equal(k) {
		t.Fatal("key round trip", err)
	}
}

// TestDPoPTokenRequests: with a key in the context, the code exchange
// carries a proof, answers use_dpop_nonce once (with a fresh client
// assertion), and accepts token_type DPoP; without a key DPoP is refused.
func TestDPoPTokenRequests(t *testing.T) {
	s, pub := newRSA(t, "k1")
	op := newFakeOP(t, pub)
	idt := sign(t, s, op.claims())
	var proofs []proofClaims
	var assertions []string
	op.setToken(func(w http.ResponseWriter, r *http.Request) {
		assertions = append(assertions, r.PostForm.Get("client_assertion"))
		if r.Header.Get("DPoP") == "" {
			tokenOK(idt, map[string]any{"token_type": "DPoP"})(w, r)
			return
		}
		c, _ := parseProof(t, r.Header.Get("DPoP"))
		proofs = append(proofs, c)
		if c.Nonce != "srv-nonce" {
			w.Header().Set("DPoP-Nonce", "srv-nonce")
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "use_dpop_nonce"})
			return
		}
		tokenOK(idt, map[string]any{"token_type": "DPoP"})(w, r)
	})
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := newProvider(t, op, func(c *Config) {
		c.Cognito, c.ClientSecret, c.AuthStyle, c.DPoP = false, "", AuthStylePrivateKeyJWT, true
		c.ClientKeys = []ClientKey{{KeyID: "ck", Key: ec}}
	})
	k, _ := NewDPoPKey()
	res, err := p.Exchange(WithDPoPKey(context.Background(), k), "code", "verifier", testNonce)
	if err != nil {
		t.Fatal(err)
	}
	if res.Tokens.TokenType != "DPoP" || len(proofs) != 2 || proofs[1].HTM != "POST" || proofs[1].HTU != op.srv.URL+"/oauth2/token" ||
		proofs[1].ATH != "" || proofs[0].JTI == proofs[1].JTI {
		t.Fatalf("token type %q, proofs %+v", res.Tokens.TokenType, proofs)
	}
	if len(assertions) != 2 || assertions[0] == assertions[1] || assertions[0] == "" {
		t.Fatal("the nonce retry reused the client assertion")
	}
	if _, err := p.Exchange(context.Background(), "code", "verifier", testNonce); !errors.Is(err, ErrInvalidResponse) {
		t.Fatalf("token_type DPoP without a key: %v", err)
	}
}
