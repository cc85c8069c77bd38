package bff

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"crypto/ecdsa"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// DPoP-bound sessions (RFC 9449) at the proxy: the upstream gets
// Authorization: DPoP <token> and a DPoP proof for the call's method and
// URL bound to the token (ath), signed with the session's key; an
// upstream's use_dpop_nonce challenge is answered once with its nonce.
// Sessions without a key take none of this (one nil check per call).

// dpopKeyOf is the session's DPoP key; nil when unreadable (the call then
// goes out as bearer and the upstream refuses it).
func dpopKeyOf(s *session.Session) *ecdsa.PrivateKey {
	k, err := oidc.ParseDPoPKey(s.Data.DPoPKey)
	if err != nil {
		return nil
	}
	return k
}

// signDPoP sets Authorization: DPoP and a fresh proof on h.
func (c *proxyCall) signDPoP(h http.Header, method string, target *url.URL, access, nonce string) {
	proof, err := oidc.DPoPProof(c.dpop, method, target.String(), access, nonce, time.Now().Unix())
	if err != nil {
		c.log().Error("proxy: cannot sign the DPoP proof", "upstream", c.name, "err", err)
		return
	}
	h.Set("Authorization", "DPoP "+access)
	h.Set("DPoP", proof)
}

// dpopNonceTransport resends a DPoP call once with the upstream's nonce
// when it answers 401 use_dpop_nonce (a bodiless or replayable request).
type dpopNonceTransport struct{ base http.RoundTripper }

func (t dpopNonceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	call, _ := req.Context().Value(proxyCallKey{}).(*proxyCall)
	if call == nil || call.dpop == nil || !oidc.IsDPoPNonceChallenge(resp) {
		return resp, nil
	}
	again := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return resp, nil
		}
		if again.Body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
	access, ok := strings.CutPrefix(req.Header.Get("Authorization"), "DPoP ")
	if !ok {
		return resp, nil
	}
	call.signDPoP(again.Header, again.Method, again.URL, access, resp.Header.Get("DPoP-Nonce"))
	return t.base.RoundTrip(again)
}
