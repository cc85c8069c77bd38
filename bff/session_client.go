package bff

import (
	"net/http"

	"github.com/authbff/authbff/internal/tracing"
)

// Transport returns an http.RoundTripper that calls the upstream named
// upstream as the proxy does: each request gets AccessTokenFor's token as
// Authorization: Bearer (none for UpstreamTokenNone), and when the API
// answers 401 the token is renewed (forced past the refused one) and the
// request sent once more - if its body can be replayed (none, or
// GetBody set, as http.NewRequest does for in-memory bodies). base nil is
// http.DefaultTransport. A failure to get a token is returned as the
// RoundTrip error (ErrNoSession, an ErrUnavailable, a *RequestError).
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
}

// RoundTrip implements http.RoundTripper; it does not change req.
func (t *sessionTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	at, err := t.s.accessFor(req.Context(), t.upstream, "")
	if err != nil {
		closeBody(req)
		return nil, err
	}
	replay := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	resp, err := t.base.RoundTrip(withBearer(req, at))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || at == "" || !replay {
		return resp, err
	}
	again, err := t.s.accessFor(req.Context(), t.upstream, at)
	if err != nil || again == "" || again == at {
		return resp, nil // the API's 401 stands
	}
	out := withBearer(req, again)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		out.Body = body
	}
	drain(resp)
	return t.base.RoundTrip(out)
}

// withBearer is a shallow copy of req with its own headers carrying token.
func withBearer(req *http.Request, token string) *http.Request {
	out := req.Clone(req.Context())
	out.Body = req.Body
	out.Header.Del("Authorization")
	if token != "" {
		out.Header.Set("Authorization", "Bearer "+token)
	}
	return out
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
