package bff

import (
	"crypto/ecdsa"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/tracing"
)

// Transport returns an http.RoundTripper that calls the upstream named
// upstream as the proxy does: each request gets AccessTokenFor's token as
// Authorization: Bearer (none for UpstreamTokenNone) - or, for a
// DPoP-bound session's user token (Provider.DPoP; the session's own token
// or one narrowed for the upstream), as Authorization: DPoP with a fresh
// proof for the request's method and URL, sent once more with the API's
// nonce when it answers use_dpop_nonce (the nonce is then kept for the
// transport's later requests). When the API answers 401 the token is
// renewed (forced past the refused one) and the request sent once more -
// if its body can be replayed (none, or GetBody set, as http.NewRequest
// does for in-memory bodies). base nil is http.DefaultTransport. A failure
// to get a token is returned as the RoundTrip error (ErrNoSession, an
// ErrUnavailable, a *RequestError).
//
// With Options.TracerProvider each call is a CLIENT span (child of the
// span in the request's context) sent on as the request's traceparent.
func (s *Session) Transport(upstream string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if s.b.tracer != nil {
		base = tracing.Transport(base, s.b.tracer, "upstream")
	}
	return &sessionTransport{s: s, upstream: upstream, base: base}
}

// Client returns an *http.Client using Transport(upstream, nil): the
// x/oauth2 Client idiom for host handlers that call APIs themselves.
func (s *Session) Client(upstream string) *http.Client {
	return &http.Client{Transport: s.Transport(upstream, nil)}
}

type sessionTransport struct {
	s        *Session
	upstream string
	base     http.RoundTripper
	mu       sync.Mutex
	nonce    string // the API's last DPoP-Nonce
}

// RoundTrip implements http.RoundTripper; it does not change req.
func (t *sessionTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	at, key, err := t.s.accessKeyFor(req.Context(), t.upstream, "")
	if err != nil {
		closeBody(req)
		return nil, err
	}
	replay := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	resp, err := t.send(req, req.Body, at, key)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || at == "" || !replay {
		return resp, err
	}
	again, key, err := t.s.accessKeyFor(req.Context(), t.upstream, at)
	if err != nil || again == "" || again == at {
		return resp, nil // the API's 401 stands
	}
	body := req.Body
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	drain(resp)
	return t.send(req, body, again, key)
}

// send sends req with body and the token at (a DPoP proof of key when
// key is non-nil), once more with the API's nonce after a use_dpop_nonce
// challenge when the body can be replayed.
func (t *sessionTransport) send(req *http.Request, body io.ReadCloser, at string, key *ecdsa.PrivateKey) (*http.Response, error) {
	t.mu.Lock()
	nonce := t.nonce
	t.mu.Unlock()
	out, err := authorized(req, body, at, key, nonce)
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, err
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil || key == nil {
		return resp, err
	}
	if n := resp.Header.Get("DPoP-Nonce"); n != "" && len(n) <= 256 {
		t.mu.Lock()
		t.nonce = n
		t.mu.Unlock()
	}
	if resp.StatusCode != http.StatusUnauthorized || !oidc.IsDPoPNonceChallenge(resp) {
		return resp, nil
	}
	if body != nil && body != http.NoBody {
		if req.GetBody == nil {
			return resp, nil
		}
		if body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	drain(resp)
	if out, err = authorized(req, body, at, key, resp.Header.Get("DPoP-Nonce")); err != nil {
		return nil, err
	}
	return t.base.RoundTrip(out)
}

// authorized is a shallow copy of req with body and its own headers
// carrying token: Bearer, or DPoP with a proof of key (nonce: the API's).
func authorized(req *http.Request, body io.ReadCloser, token string, key *ecdsa.PrivateKey, nonce string) (*http.Request, error) {
	out := req.Clone(req.Context())
	out.Body = body
	out.Header.Del("Authorization")
	out.Header.Del("DPoP")
	switch {
	case token == "":
	case key == nil:
		out.Header.Set("Authorization", "Bearer "+token)
	default:
		proof, err := oidc.DPoPProof(key, out.Method, out.URL.String(), token, nonce, time.Now().Unix())
		if err != nil {
			return nil, err
		}
		out.Header.Set("Authorization", "DPoP "+token)
		out.Header.Set("DPoP", proof)
	}
	return out, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
