package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// tokenBytes is the entropy of a session cookie token.
const tokenBytes = 32

// tokenLen is the length of an encoded token: 32 bytes, base64url, no padding.
const tokenLen = 43

// NewToken returns a fresh session cookie token: 32 bytes from crypto/rand,
// base64url-encoded without padding (43 characters). It fails only when the
// system's random source does.
func NewToken() (string, error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("session new token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// IDFromToken returns the store key of a cookie token: the lowercase hex of its
// SHA-256 (64 characters). It does not validate the token.
func IDFromToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// UserKey returns the key that groups a user's sessions: provider + "|" + subject.
func UserKey(provider, subject string) string {
	return provider + "|" + subject
}

// validToken reports whether token has the shape NewToken produces (43
// base64url characters encoding exactly 32 bytes), so that malformed cookies
// are rejected without touching the store. It does not allocate.
func validToken(token string) bool {
	if len(token) != tokenLen {
		return false
	}
	for i := 0; i < len(token); i++ {
		v := b64val(token[i])
		if v < 0 {
			return false
		}
		// 43 characters carry 258 bits: the last one's low 2 bits must be zero.
		if i == tokenLen-1 && v&3 != 0 {
			return false
		}
	}
	return true
}

// b64val returns the value of a base64url character, or -1.
func b64val(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '-':
		return 62
	case c == '_':
		return 63
	}
	return -1
}

// idBytes writes hex(SHA-256(token)) into dst without allocating.
func idBytes(dst *[2 * sha256.Size]byte, token string) {
	var sum [sha256.Size]byte
	var tb [tokenLen]byte
	if len(token) <= len(tb) {
		// Copy into a stack array: converting the string directly would allocate.
		n := copy(tb[:], token)
		sum = sha256.Sum256(tb[:n])
	} else {
		sum = sha256.Sum256([]byte(token))
	}
	hex.Encode(dst[:], sum[:])
}
