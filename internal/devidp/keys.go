package devidp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// keyPair holds the two signing keys: Cognito signs ID and access tokens with
// different keys, so clients that pick "the" key instead of the one named by
// the kid break here as they would there.
type keyPair struct {
	id, access       jwk.Key // private, with kid and alg
	accessPub        jwk.Key
	public           jwk.Set // both public keys, served as JWKS
	idKID, accessKID string
}

// newKeyPair generates two RSA-2048 keys with thumbprint kids.
func newKeyPair() (*keyPair, error) {
	var keys [2]jwk.Key
	for i := range keys {
		raw, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("generate rsa key: %w", err)
		}
		k, err := jwk.FromRaw(raw)
		if err != nil {
			return nil, fmt.Errorf("wrap rsa key: %w", err)
		}
		tp, err := k.Thumbprint(crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("thumbprint key: %w", err)
		}
		for name, v := range map[string]any{
			jwk.KeyIDKey:     base64.RawURLEncoding.EncodeToString(tp),
			jwk.AlgorithmKey: jwa.RS256,
			jwk.KeyUsageKey:  jwk.ForSignature,
		} {
			if err := k.Set(name, v); err != nil {
				return nil, fmt.Errorf("set key %s: %w", name, err)
			}
		}
		keys[i] = k
	}
	return keyPairFrom(keys[0], keys[1])
}

// keyPairFrom builds the pair from two private keys (with kid and alg set).
func keyPairFrom(id, access jwk.Key) (*keyPair, error) {
	kp := &keyPair{id: id, access: access, public: jwk.NewSet()}
	for _, k := range []jwk.Key{id, access} {
		pub, err := k.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		if err := kp.public.AddKey(pub); err != nil {
			return nil, fmt.Errorf("add public key: %w", err)
		}
	}
	kp.idKID, kp.accessKID = id.KeyID(), access.KeyID()
	pub, err := access.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("access public key: %w", err)
	}
	kp.accessPub = pub
	return kp, nil
}

// sign makes an RS256 JWT of claims with key (whose kid goes in the header).
// exp and iat may be time.Time; other times must be Unix seconds.
func sign(key jwk.Key, claims map[string]any) (string, error) {
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			return "", fmt.Errorf("sign: set claim %s: %w", k, err)
		}
	}
	b, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256, key))
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return string(b), nil
}

// verifyAccess checks an access token minted here: signature by the access
// key, iss, exp/iat against the injected clock, token_use "access", and that
// its refresh chain (origin_jti) was not revoked. It returns the claims.
func (p *IdP) verifyAccess(ctx context.Context, raw string) (map[string]any, error) {
	tok, err := jwt.Parse([]byte(raw),
		jwt.WithKey(jwa.RS256, p.keys.accessPub),
		jwt.WithValidate(true),
		jwt.WithClock(jwt.ClockFunc(p.now)),
		jwt.WithIssuer(p.issuer),
		jwt.WithClaimValue("token_use", "access"),
	)
	if err != nil {
		return nil, fmt.Errorf("verify access token: %w", err)
	}
	claims, err := tok.AsMap(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify access token: claims: %w", err)
	}
	origin, _ := claims["origin_jti"].(string)
	p.mu.Lock()
	revoked := p.revoked[origin]
	p.mu.Unlock()
	if revoked {
		return nil, fmt.Errorf("verify access token: %w", errRevoked)
	}
	// jwx returns registered time claims as time.Time; show them as Cognito
	// does (Unix seconds) to anyone who echoes the claims.
	for k, v := range claims {
		if t, ok := v.(time.Time); ok {
			claims[k] = t.Unix()
		}
	}
	return claims, nil
}

// discovery serves the OpenID configuration, shaped like Cognito's: no
// code_challenge_methods_supported, the non-standard /logout as
// end_session_endpoint.
func (p *IdP) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.issuer,
		"authorization_endpoint":                p.baseURL + "/oauth2/authorize",
		"token_endpoint":                        p.baseURL + "/oauth2/token",
		"userinfo_endpoint":                     p.baseURL + "/oauth2/userInfo",
		"revocation_endpoint":                   p.baseURL + "/oauth2/revoke",
		"end_session_endpoint":                  p.baseURL + "/logout",
		"jwks_uri":                              p.issuer + "/.well-known/jwks.json",
		"response_types_supported":              []string{"code"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                      []string{"openid", "email", "phone", "profile"},
		"subject_types_supported":               []string{"public"},
	})
}

// jwks serves both public keys.
func (p *IdP) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, p.keys.public)
}

// writeJSON writes v as JSON with status and no caching.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
