package bff

import (
	"net/http"
	"time"

	"github.com/authbff/authbff/internal/oidc"
)

// Authenticate sets req's Authorization for a call to an API as the user,
// with the session's current access token (AccessToken: refreshed when
// due, its errors): Bearer, or for a DPoP-bound session (AUTH_<ID>_DPOP)
// "DPoP <token>" and a DPoP proof for req's method and URL signed with the
// session's key, as the proxy sends. A DPoP upstream answering 401
// use_dpop_nonce wants the request again with its nonce: call
// AuthenticateWithNonce with the answer's DPoP-Nonce.
func (s *Session) Authenticate(req *http.Request) error {
	return s.AuthenticateWithNonce(req, "")
}

// AuthenticateWithNonce is Authenticate with a resource server's DPoP nonce
// in the proof ("" none).
func (s *Session) AuthenticateWithNonce(req *http.Request, nonce string) error {
	access, err := s.AccessToken(req.Context())
	if err != nil {
		return err
	}
	s.mu.Lock()
	key := s.s.Data.DPoPKey
	s.mu.Unlock()
	if key == "" {
		req.Header.Set("Authorization", "Bearer "+access)
		return nil
	}
	k, err := oidc.ParseDPoPKey(key)
	if err != nil {
		return err
	}
	proof, err := oidc.DPoPProof(k, req.Method, req.URL.String(), access, nonce, time.Now().Unix())
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "DPoP "+access)
	req.Header.Set("DPoP", proof)
	return nil
}
