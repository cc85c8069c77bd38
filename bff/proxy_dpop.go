package bff

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"crypto/ecdsa"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// DPoP-bound sessions (RFC 9449) at the proxy: the upstream gets
// Authorization: DPoP <token> and a DPoP proof for the call's method and
// URL bound to the token (ath), signed with the key the token is bound to
// (upstreamDPoP: the session's, or the instance's for a client token); an
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

// upstreamDPoP is the key the token upstreamAccess gives for pol and s is
// bound to, nil for a bearer token. A DPoP-bound session's tokens are all
// bound to its key: its own token, and an upstream's narrowed one (the
// refresh grant carries a proof of the key: refresh.Coordinator.Upstream),
// so UpstreamTokenUser - and UpstreamTokenUserOrClient when signed in,
// which sends the user's token - get Authorization: DPoP and a fresh proof
// per call. authbff's own client credentials token (UpstreamTokenClient,
// and user-or-client signed out) is bound to the instance's key when its
// provider is configured for DPoP (clientDPoP), else sent as Bearer.
func (b *BFF) upstreamDPoP(pol *upstreamPolicy, s *session.Session) *ecdsa.PrivateKey {
	switch {
	case pol.token == UpstreamTokenNone:
		return nil
	case pol.token == UpstreamTokenClient || s == nil:
		provider := pol.provider
		if provider == "" {
			provider = b.core.DefaultProvider()
		}
		return b.clientDPoP(provider)
	case s.Data.DPoPKey == "":
		return nil
	}
	return dpopKeyOf(s)
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

// dpopNonces keeps each upstream's last DPoP-Nonce, so that later calls
// carry it at once instead of being challenged again.
type dpopNonces struct{ m sync.Map } // upstream name -> nonce

func (n *dpopNonces) get(name string) string {
	if n == nil {
		return ""
	}
	v, _ := n.m.Load(name)
	s, _ := v.(string)
	return s
}

// dpopNonceTransport resends a DPoP call once with the upstream's nonce
// when it answers 401 use_dpop_nonce (a bodiless or replayable request),
// and remembers the nonce an upstream sends.
type dpopNonceTransport struct {
	base   http.RoundTripper
	nonces *dpopNonces
}

func (t dpopNonceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	call, _ := req.Context().Value(proxyCallKey{}).(*proxyCall)
	if call == nil || call.dpop == nil {
		return resp, nil
	}
	if nonce := resp.Header.Get("DPoP-Nonce"); nonce != "" && len(nonce) <= 256 {
		t.nonces.m.Store(call.name, nonce)
	}
	if resp.StatusCode != http.StatusUnauthorized || !oidc.IsDPoPNonceChallenge(resp) {
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
