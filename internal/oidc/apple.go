package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Sign in with Apple (Config.Apple). Apple's "client secret" is an ES256
// JWT signed with a key downloaded once from the developer portal (.p8):
// iss the team id, sub the Services ID (the client id), aud Apple's issuer,
// at most six months long. authbff mints it itself, short-lived, and
// renews it before it expires, so nobody regenerates it by hand. The
// authorization request asks for response_mode=form_post (Apple requires
// it when the name or email scope is asked), so the callback is a POST.

// AppleSecretLifetime is how long a minted client secret is valid; a new
// one is minted when less than a quarter of it is left.
const AppleSecretLifetime = time.Hour

// AppleKey configures the client secret of Sign in with Apple.
type AppleKey struct {
	// TeamID is the Apple developer team id; KeyID the key's id.
	TeamID, KeyID string
	// Key is the .p8 private key (P-256).
	Key *ecdsa.PrivateKey
}

// ParseAppleKey reads a .p8 key: a PEM "PRIVATE KEY" (PKCS #8) holding a
// P-256 ECDSA key.
func ParseAppleKey(p8 []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(p8)
	if block == nil {
		return nil, errors.New("not a PEM key (the .p8 file starts with -----BEGIN PRIVATE KEY-----)")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not a PKCS #8 private key: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("not a P-256 ECDSA key (Sign in with Apple keys are ES256)")
	}
	return ec, nil
}

// appleSecret caches the minted client secret.
type appleSecret struct {
	mu      sync.Mutex
	jwt     string
	expires time.Time
}

// clientSecret returns the secret sent to the token (and revocation)
// endpoint: Config.ClientSecret, or for Apple a minted JWT.
func (p *Provider) clientSecret() string {
	if p.cfg.Apple == nil {
		return p.creds.Load().secret
	}
	s, err := p.MintAppleSecret()
	if err != nil {
		p.log.Error("apple: cannot mint the client secret", "err", err)
		return ""
	}
	return s
}

// MintAppleSecret returns a valid client secret JWT for Apple: the cached
// one while more than a quarter of its lifetime is left, else a new one.
func (p *Provider) MintAppleSecret() (string, error) {
	a := p.cfg.Apple
	if a == nil || a.Key == nil {
		return "", errors.New("oidc: apple: no key configured")
	}
	c := &p.apple
	c.mu.Lock()
	defer c.mu.Unlock()
	now := p.now()
	if c.jwt != "" && c.expires.Sub(now) > AppleSecretLifetime/4 {
		return c.jwt, nil
	}
	aud := p.issuer()
	claims, _ := json.Marshal(map[string]any{
		"iss": a.TeamID, "sub": p.cfg.ClientID, "aud": aud,
		"iat": now.Unix(), "exp": now.Add(AppleSecretLifetime).Unix(),
	})
	key, err := jwk.FromRaw(a.Key)
	if err != nil {
		return "", fmt.Errorf("oidc: apple: %w", err)
	}
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, a.KeyID)
	out, err := jws.Sign(claims, jws.WithKey(jwa.ES256, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("oidc: apple: sign the client secret: %w", err)
	}
	c.jwt, c.expires = string(out), now.Add(AppleSecretLifetime)
	return c.jwt, nil
}

// AppleUser is the "user" form field of Apple's first callback for a user
// (JSON): the only place Apple ever sends the user's name.
type AppleUser struct {
	Name struct {
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
	} `json:"name"`
	Email string `json:"email"`
}

// ParseAppleUser reads the user field; "" gives "" and no error.
func ParseAppleUser(field string) (name string, err error) {
	if field == "" {
		return "", nil
	}
	if len(field) > 4096 {
		return "", errors.New("apple user field too long")
	}
	var u AppleUser
	if err := json.Unmarshal([]byte(field), &u); err != nil {
		return "", fmt.Errorf("apple user field: %w", err)
	}
	first, last := LogText(u.Name.FirstName), LogText(u.Name.LastName)
	switch {
	case first != "" && last != "":
		return first + " " + last, nil
	case first != "":
		return first, nil
	}
	return last, nil
}
