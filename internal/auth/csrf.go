package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// CSRF implements NextAuth's double-submit CSRF token: the cookie holds
// "token|hex(sha256(token + secret))", and a POST is valid when the body's
// csrfToken equals the cookie's token and the cookie's hash checks out.
type CSRF struct {
	secrets [][]byte // first is current; the rest are previous secrets
}

// NewCSRF returns a CSRF checker keyed by the server secrets (current first).
func NewCSRF(secrets [][]byte) *CSRF { return &CSRF{secrets: secrets} }

func (c *CSRF) hash(token string, secret []byte) string {
	h := sha256.New()
	h.Write([]byte(token))
	h.Write(secret)
	return hex.EncodeToString(h.Sum(nil))
}

// FromCookie returns the token held by a CSRF cookie value when its hash
// verifies under one of the secrets; ok is false otherwise.
func (c *CSRF) FromCookie(value string) (token string, ok bool) {
	token, sum, found := strings.Cut(value, "|")
	if !found || len(token) != 64 || len(sum) != 64 {
		return "", false
	}
	for _, s := range c.secrets {
		if subtle.ConstantTimeCompare([]byte(c.hash(token, s)), []byte(sum)) == 1 {
			return token, true
		}
	}
	return "", false
}

// Mint makes a new token (32 random bytes as 64 hex) and its cookie value.
func (c *CSRF) Mint() (token, cookieValue string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	token = hex.EncodeToString(b[:])
	return token, token + "|" + c.hash(token, c.secrets[0])
}

// Valid reports whether a submitted csrfToken matches the CSRF cookie value.
// An empty submission or cookie is never valid.
func (c *CSRF) Valid(cookieValue, submitted string) bool {
	token, ok := c.FromCookie(cookieValue)
	if !ok || submitted == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(token), []byte(submitted)) == 1
}
