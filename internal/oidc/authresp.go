package oidc

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
)

// ValidateAuthResponse checks the callback query (or form) of an
// authorization response and returns its code and state. It refuses a
// repeated code, state, error or iss; both code and error; an "iss"
// (RFC 9207) that is present and differs from issuer; a missing code or
// state. Those errors wrap ErrInvalidAuthResponse. An error=... response
// returns the state (if single) and an *Error (EndpointAuthorization).
//
// The caller must STILL check that state belongs to a flow in progress in
// this browser, for this provider, not used before; then call Exchange.
func ValidateAuthResponse(q url.Values, issuer string) (code, state string, err error) {
	for _, k := range []string{"code", "state", "error", "error_description", "iss"} {
		if len(q[k]) > 1 {
			return "", "", fmt.Errorf("%w: parameter %q repeated", ErrInvalidAuthResponse, k)
		}
	}
	code, state = q.Get("code"), q.Get("state")
	_, hasErr := q["error"]
	if hasErr && code != "" {
		return "", "", fmt.Errorf("%w: both code and error present", ErrInvalidAuthResponse)
	}
	if iss, ok := q["iss"]; ok && iss[0] != issuer {
		return "", "", fmt.Errorf("%w: iss parameter %q is not the issuer %q", ErrInvalidAuthResponse, LogText(iss[0]), issuer)
	}
	if hasErr {
		e := LogText(q.Get("error"))
		if e == "" {
			e = "unknown_error"
		}
		return "", state, &Error{Endpoint: EndpointAuthorization, Code: e, Description: LogText(q.Get("error_description"))}
	}
	if code == "" {
		return "", "", fmt.Errorf("%w: code missing", ErrInvalidAuthResponse)
	}
	if state == "" {
		return "", "", fmt.Errorf("%w: state missing", ErrInvalidAuthResponse)
	}
	return code, state, nil
}

// PKCEChallenge returns the S256 code challenge of verifier:
// base64url(sha256(verifier)) without padding.
func PKCEChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// NewVerifier returns a fresh PKCE code verifier: 43 characters of
// base64url (256 random bits), within RFC 7636's alphabet and length.
func NewVerifier() string { return RandomString(32) }

// RandomString returns nBytes of crypto/rand as unpadded base64url
// (suitable for state and nonce with nBytes >= 16). If the system's random
// source fails the program crashes (crypto/rand's contract): it never
// returns a weak value.
func RandomString(nBytes int) string {
	b := make([]byte, nBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error since Go 1.24; it crashes instead.
	return base64.RawURLEncoding.EncodeToString(b)
}
