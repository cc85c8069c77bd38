package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"sync"
)

// sealInfoPrefix is the HKDF info prefix; the cookie token follows it.
const sealInfoPrefix = "authbff/session/v1|"

const (
	nonceSize = 12
	keySize   = 32
)

// errOpen is returned by sealer.open when no secret authenticates the payload.
var errOpen = errors.New("sealed payload does not authenticate")

// sealer derives per-session keys with HKDF-SHA256 (salt nil, info =
// sealInfoPrefix + token) from one server secret. It precomputes the HKDF
// extract step (a function of the secret alone) and pools the keyed HMAC state
// used for the expand step, so deriving a key costs one HMAC and no
// allocations in the steady state.
type sealer struct {
	pool sync.Pool // of *expander
}

// expander is pooled HMAC state keyed with the HKDF PRK plus scratch space for
// the info string, so key derivation does not allocate.
type expander struct {
	h   hash.Hash
	buf [64]byte
}

// newSealer returns a sealer for secret.
func newSealer(secret []byte) (*sealer, error) {
	prk, err := hkdf.Extract(sha256.New, secret, nil)
	if err != nil {
		return nil, fmt.Errorf("hkdf extract: %w", err)
	}
	s := &sealer{}
	s.pool.New = func() any { return &expander{h: hmac.New(sha256.New, prk)} }
	return s, nil
}

// deriveKey writes HKDF-Expand(PRK, sealInfoPrefix+token, 32) into key. A
// single HMAC block suffices because the output is exactly one SHA-256 size.
func (s *sealer) deriveKey(key *[keySize]byte, token string) {
	e := s.pool.Get().(*expander)
	e.h.Reset()
	b := append(e.buf[:0], sealInfoPrefix...)
	b = append(b, token...)
	b = append(b, 1) // HKDF counter for the first (only) block
	e.h.Write(b)
	e.h.Sum(key[:0])
	s.pool.Put(e)
}

// aead returns the AES-256-GCM AEAD for token.
func (s *sealer) aead(token string) (cipher.AEAD, error) {
	var key [keySize]byte
	s.deriveKey(&key, token)
	block, err := aes.NewCipher(key[:])
	clear(key[:])
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return g, nil
}

// seal encrypts plaintext for token, binding it to id as additional data.
// The result is nonce (12 bytes) || ciphertext || tag.
func (s *sealer) seal(token string, id, plaintext []byte) ([]byte, error) {
	g, err := s.aead(token)
	if err != nil {
		return nil, err
	}
	out := make([]byte, nonceSize, nonceSize+len(plaintext)+g.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return g.Seal(out, out, plaintext, id), nil
}

// open decrypts sealed (as made by seal) appending the plaintext to dst.
func (s *sealer) open(dst []byte, token string, id, sealed []byte) ([]byte, error) {
	if len(sealed) < nonceSize+16 {
		return nil, errOpen
	}
	g, err := s.aead(token)
	if err != nil {
		return nil, err
	}
	out, err := g.Open(dst, sealed[:nonceSize], sealed[nonceSize:], id)
	if err != nil {
		return nil, errOpen
	}
	return out, nil
}
