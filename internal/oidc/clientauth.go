package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Client assertions (RFC 7523 section 2.2, OpenID Connect Core 9):
// private_key_jwt signs a short JWT with the client's own key, whose public
// half the provider knows (registered, or fetched from authbff's /jwks);
// client_secret_jwt HMACs it with the client secret, which then never
// travels. Either way iss = sub = client_id, aud the issuer (FAPI 2.0 and
// RFC 7523bis; the token endpoint for a plain OAuth 2.0 provider), a
// random jti and an exp AssertionLifetime ahead. A fresh assertion goes
// with every call to the token, revocation and PAR endpoints.

// AssertionLifetime is how long a client assertion is valid.
const AssertionLifetime = time.Minute

// ClientAssertionType is RFC 7523's client_assertion_type.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// ClientKey is one private_key_jwt key.
type ClientKey struct {
	// KeyID is the kid (header and JWKS); empty: the key's RFC 7638 thumbprint.
	KeyID string
	// Key is an RSA (2048 bits or more) or ECDSA (P-256, P-384, P-521) key.
	Key crypto.Signer
}

// ParseClientKeys reads one or more PEM private keys (PKCS #8, PKCS #1
// RSA or SEC 1 EC), in order. kid names the first; the others get their
// thumbprint.
func ParseClientKeys(text []byte, kid string) ([]ClientKey, error) {
	var keys []ClientKey
	rest := text
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if !strings.Contains(block.Type, "PRIVATE KEY") {
			continue
		}
		k, err := parsePrivate(block)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", len(keys)+1, err)
		}
		ck := ClientKey{Key: k}
		if len(keys) == 0 {
			ck.KeyID = kid
		}
		if ck.KeyID == "" {
			if ck.KeyID, err = thumbprint(k.Public()); err != nil {
				return nil, err
			}
		}
		keys = append(keys, ck)
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)")
	}
	return keys, nil
}

func parsePrivate(b *pem.Block) (crypto.Signer, error) {
	var k any
	var err error
	switch b.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	}
	if err != nil {
		return nil, err
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, errors.New("an RSA key needs 2048 bits or more")
		}
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("a %T key: use RSA or ECDSA", k)
}

// keyAlg is the JWS algorithm of a key: RS256, or ES256/384/512 by curve.
func keyAlg(k crypto.Signer) jwa.SignatureAlgorithm {
	if ec, ok := k.(*ecdsa.PrivateKey); ok {
		switch ec.Curve {
		case elliptic.P384():
			return jwa.ES384
		case elliptic.P521():
			return jwa.ES512
		}
		return jwa.ES256
	}
	return jwa.RS256
}

func thumbprint(pub crypto.PublicKey) (string, error) {
	k, err := jwk.FromRaw(pub)
	if err != nil {
		return "", err
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// PublicJWKS is the JWK Set of keys' public halves (kid, alg, use sig), to
// register as the client's jwks_uri.
func PublicJWKS(keys []ClientKey) ([]byte, error) {
	set := jwk.NewSet()
	for _, ck := range keys {
		k, err := jwk.FromRaw(ck.Key.Public())
		if err != nil {
			return nil, err
		}
		_ = k.Set(jwk.KeyIDKey, ck.KeyID)
		_ = k.Set(jwk.AlgorithmKey, keyAlg(ck.Key))
		_ = k.Set(jwk.KeyUsageKey, "sig")
		_ = set.AddKey(k)
	}
	return json.Marshal(set)
}

// checkAssertionStyle is New's check of the assertion styles' credentials.
func checkAssertionStyle(cfg Config, style AuthStyle) error {
	if style == AuthStylePrivateKeyJWT {
		if len(cfg.ClientKeys) == 0 {
			return errors.New("oidc: new: private_key_jwt needs a client key")
		}
		if cfg.ClientSecret != "" || cfg.Apple != nil {
			return errors.New("oidc: new: private_key_jwt takes no client secret")
		}
		return nil
	}
	if cfg.ClientSecret == "" {
		return errors.New("oidc: new: client_secret_jwt needs a client secret")
	}
	return nil
}

// assertion reports whether the client authenticates with a JWT.
func (p *Provider) assertion() bool {
	return p.style == AuthStylePrivateKeyJWT || p.style == AuthStyleSecretJWT
}

// assertionAudience is the aud of the client assertions: the issuer, or
// the token endpoint (Config.AssertionAudienceToken, or a provider without
// an issuer); endpoint is the URL called.
func (p *Provider) assertionAudience(endpoint string) string {
	if iss := p.issuer(); iss != "" && !p.cfg.AssertionAudienceToken {
		return iss
	}
	if p.cfg.AssertionAudienceToken {
		if e, err := p.endpoints(context.Background()); err == nil && e.token != "" {
			return e.token
		}
	}
	return endpoint
}

// ClientAssertion mints a fresh client assertion for aud.
func (p *Provider) ClientAssertion(aud string) (string, error) {
	now := p.now()
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	claims, _ := json.Marshal(map[string]any{
		"iss": p.cfg.ClientID, "sub": p.cfg.ClientID, "aud": aud,
		"jti": base64.RawURLEncoding.EncodeToString(jti[:]),
		"iat": now.Unix(), "exp": now.Add(AssertionLifetime).Unix(),
	})
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.TypeKey, "JWT")
	var opt jws.SignOption
	if cr := p.creds.Load(); p.style == AuthStyleSecretJWT {
		opt = jws.WithKey(jwa.HS256, []byte(cr.secret), jws.WithProtectedHeaders(hdr))
	} else {
		ck := cr.keys[0]
		_ = hdr.Set(jws.KeyIDKey, ck.KeyID)
		opt = jws.WithKey(keyAlg(ck.Key), ck.Key, jws.WithProtectedHeaders(hdr))
	}
	out, err := jws.Sign(claims, opt)
	if err != nil {
		return "", fmt.Errorf("oidc: sign the client assertion: %w", err)
	}
	return string(out), nil
}

// authenticateForm adds the client authentication of the configured
// style to a form POSTed to endpoint (revocation, PAR) and returns the
// Basic credentials to set, if any (ok false: none).
func (p *Provider) authenticateForm(form url.Values, endpoint string) (user, pass string, basic bool, err error) {
	switch p.style {
	case AuthStyleBasic:
		return url.QueryEscape(p.cfg.ClientID), url.QueryEscape(p.clientSecret()), true, nil
	case AuthStylePost:
		form.Set("client_id", p.cfg.ClientID)
		form.Set("client_secret", p.clientSecret())
	case AuthStylePrivateKeyJWT, AuthStyleSecretJWT:
		a, err := p.ClientAssertion(p.assertionAudience(endpoint))
		if err != nil {
			return "", "", false, err
		}
		form.Set("client_id", p.cfg.ClientID)
		form.Set("client_assertion_type", ClientAssertionType)
		form.Set("client_assertion", a)
	default:
		form.Set("client_id", p.cfg.ClientID)
	}
	return "", "", false, nil
}

// assertionClient is p.client with assertionTransport: x/oauth2's token
// requests (code, refresh) get a fresh client assertion each.
func (p *Provider) assertionClient() *http.Client {
	c := *p.client
	c.Transport = assertionTransport{base: p.client.Transport, p: p}
	return &c
}

// assertionTransport adds client_assertion_type and client_assertion to a
// form POST (x/oauth2 sends client_id, and no secret: oauthConfig).
type assertionTransport struct {
	base http.RoundTripper
	p    *Provider
}

func (t assertionTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || r.Body == nil {
		return t.base.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	// build makes the request to send: a fresh assertion each time (its
	// jti is single-use), so a DPoP nonce retry sends a new one.
	build := func() (*http.Request, error) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		r2 := r.Clone(r.Context())
		if t.p.assertion() {
			a, err := t.p.ClientAssertion(t.p.assertionAudience(r.URL.String()))
			if err != nil {
				return nil, err
			}
			form.Del("client_secret")
			form.Set("client_id", t.p.cfg.ClientID)
			form.Set("client_assertion_type", ClientAssertionType)
			form.Set("client_assertion", a)
			r2.Header.Del("Authorization")
		}
		enc := form.Encode()
		r2.Body = io.NopCloser(strings.NewReader(enc))
		r2.ContentLength = int64(len(enc))
		r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(enc)), nil }
		return r2, nil
	}
	r2, err := build()
	if err != nil {
		return nil, err
	}
	if k := dpopKeyFrom(r.Context()); k != nil {
		return t.p.sendDPoP(t.base, r2, k, "", build)
	}
	return t.base.RoundTrip(r2)
}
