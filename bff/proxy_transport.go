package bff

import (
	"context"
	"io"
	"net/http"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/session"
)

// refreshFunc refreshes a session's tokens whatever their expiry
// (nextauth.Core.ForceRefresh).
type refreshFunc func(ctx context.Context, token string, s *session.Session) (*session.Session, error)

// retryTransport retries a proxied request once when the upstream answers
// 401: if the request may be retried (idempotent, no body) and a refresh
// yields a different access token, the request is sent again with it.
// Otherwise the upstream's 401 goes to the browser as it is.
type retryTransport struct {
	base    http.RoundTripper
	refresh refreshFunc
	nonces  *dpopNonces // the upstreams' last DPoP-Nonce, for a retry's proof (nil: none)
}

// RoundTrip implements http.RoundTripper.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	call, _ := req.Context().Value(proxyCallKey{}).(*proxyCall)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || call == nil || !call.retry ||
		(req.Body != nil && req.Body != http.NoBody) {
		return resp, err
	}
	if call.again != nil {
		return retryAgain(t, req, resp, call)
	}
	s, rerr := t.refresh(req.Context(), call.token, call.s)
	if nextauth.SessionEnded(rerr) {
		// The IdP ended the session: the upstream's 401 goes to the browser,
		// whose next request finds no session.
		return resp, nil
	}
	if rerr != nil {
		call.log().Warn("proxy: upstream answered 401 and the token refresh failed", "upstream", call.name, "err", rerr)
		return resp, nil
	}
	if s == nil || s.Data.Tokens.AccessToken == "" || s.Data.Tokens.AccessToken == call.access {
		return resp, nil
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
	call.log().Info("proxy: upstream answered 401; retrying once with a refreshed access token", "upstream", call.name)
	again := req.Clone(req.Context())
	again.Header.Set("Authorization", "Bearer "+s.Data.Tokens.AccessToken)
	if call.dpop != nil {
		call.signDPoP(again.Header, again.Method, again.URL, s.Data.Tokens.AccessToken, t.nonces.get(call.name))
	}
	return t.base.RoundTrip(again)
}
