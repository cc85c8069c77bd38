package auth

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// FlowMaxAge is how long a sign-in flow may take, from the POST to
// /signin/:provider to the IdP's callback (NextAuth's 15 minutes).
const FlowMaxAge = 15 * time.Minute

// ErrBadFlow is returned when a flow cookie is missing, tampered with,
// expired, or belongs to another state or provider.
var ErrBadFlow = errors.New("auth: no valid sign-in flow for this state")

// Flow is the state of one sign-in in progress, sealed into a cookie of its
// own (keyed by the state) so two tabs can sign in at once and any instance
// sharing the secret can finish a flow another began.
type Flow struct {
	Provider    string    `json:"p"`
	State       string    `json:"s"`
	Verifier    string    `json:"v"`
	Nonce       string    `json:"n"`
	CallbackURL string    `json:"cb"`
	Created     time.Time `json:"t"`
	// ACR and MaxAge are the acr_values and max_age the sign-in asked for
	// (step-up): the ID token must answer them. MaxAge nil: not asked.
	ACR    []string `json:"acr,omitempty"`
	MaxAge *int64   `json:"ma,omitempty"`
}

// FlowKey is the short key that names a flow's cookie: a hash prefix of the
// state, so the cookie name reveals nothing usable.
func FlowKey(state string) string {
	h := sha256.Sum256([]byte("authbff/flow-key|" + state))
	return hex.EncodeToString(h[:8])
}

// Sealer seals and opens flow cookies with AES-256-GCM under keys derived
// (HKDF-SHA256) from the server secrets.
type Sealer struct {
	aeads []cipher.AEAD // current first
	now   func() time.Time
}

// NewSealer derives one AEAD per secret (current first). now may be nil.
func NewSealer(secrets [][]byte, now func() time.Time) (*Sealer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("auth: new sealer: no secret")
	}
	if now == nil {
		now = time.Now
	}
	s := &Sealer{now: now}
	for _, sec := range secrets {
		key, err := hkdf.Key(sha256.New, sec, nil, "authbff/flow/v1", 32)
		if err != nil {
			return nil, fmt.Errorf("auth: new sealer: %w", err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("auth: new sealer: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("auth: new sealer: %w", err)
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// ErrCookieTooLarge is returned by Seal when the sealed flow would not fit in
// a browser cookie (FitsCookie): the browser would drop it silently and the
// sign-in would fail. Seal again with a shorter CallbackURL (the origin).
var ErrCookieTooLarge = errors.New("auth: sealed flow does not fit in a cookie")

// Seal encrypts f for the cookie named name (the name is bound as additional
// data, so a value cannot be moved to another flow's cookie). The result
// always fits the cookie (FitsCookie); when it would not, the error wraps
// ErrCookieTooLarge. A CallbackURL from SafeCallbackURL always fits.
func (s *Sealer) Seal(name string, f Flow) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Unescaped "&", "<", ">" keep the sealed size predictable: one byte
	// each instead of six (the callbackUrl's query is full of "&").
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		return "", fmt.Errorf("auth: seal flow: %w", err)
	}
	plain := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	a := s.aeads[0]
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("auth: seal flow: %w", err)
	}
	out := a.Seal(nonce, nonce, plain, []byte(name))
	v := base64.RawURLEncoding.EncodeToString(out)
	if !FitsCookie(name, v) {
		return "", fmt.Errorf("auth: seal flow: %d-byte cookie value: %w", len(v), ErrCookieTooLarge)
	}
	return v, nil
}

// Open decrypts a flow cookie and checks it belongs to state and provider and
// is younger than FlowMaxAge. Any failure is ErrBadFlow.
func (s *Sealer) Open(name, value, state, provider string) (Flow, error) {
	f, err := s.Peek(name, value)
	if err != nil {
		return Flow{}, err
	}
	age := s.now().Sub(f.Created)
	if f.State != state || f.Provider != provider || age > FlowMaxAge || age < -time.Minute {
		return Flow{}, ErrBadFlow
	}
	return f, nil
}

// Peek decrypts a flow cookie without checking what it is for; use it only
// to manage cookies (e.g. drop the oldest flows), never to finish a flow.
func (s *Sealer) Peek(name, value string) (Flow, error) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return Flow{}, ErrBadFlow
	}
	for _, a := range s.aeads {
		if len(raw) < a.NonceSize()+a.Overhead() {
			return Flow{}, ErrBadFlow
		}
		plain, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], []byte(name))
		if err != nil {
			continue
		}
		var f Flow
		if err := json.Unmarshal(plain, &f); err != nil {
			return Flow{}, ErrBadFlow
		}
		return f, nil
	}
	return Flow{}, ErrBadFlow
}
