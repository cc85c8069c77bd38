package bff

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// clientMargin is how long before its expiry a client token is renewed.
const clientMargin = 30 * time.Second

// upstreamTokens caches client credentials tokens, one per (upstream,
// parameters) per instance until due. The zero value is ready.
type upstreamTokens struct {
	mu     sync.Mutex
	client map[string]clientToken
	flight singleflight.Group
	// key is the instance's DPoP key, made on first use: the client tokens
	// of a DPoP provider are bound to it (clientDPoP).
	keyOnce sync.Once
	key     *ecdsa.PrivateKey
}

type clientToken struct {
	access string
	expiry time.Time
}

// clientKey identifies a client token: the provider and the parameters
// (two upstreams asking for the same share it).
func clientKey(provider string, params url.Values) string { return provider + "?" + params.Encode() }

// clientAccess returns authbff's own token for pol: cached until due, else
// one client credentials grant (concurrent callers share it). rejected is
// a token the upstream just refused: it is not served again.
func (b *BFF) clientAccess(ctx context.Context, pol *upstreamPolicy, rejected string) (string, error) {
	t := &b.proxy.tokens
	provider := pol.provider
	if provider == "" {
		provider = b.core.DefaultProvider()
	}
	key := clientKey(provider, pol.params)
	now := b.core.Now()
	t.mu.Lock()
	c, ok := t.client[key]
	t.mu.Unlock()
	if ok && c.access != rejected && (c.expiry.IsZero() || now.Add(clientMargin).Before(c.expiry)) {
		return c.access, nil
	}
	ch := t.flight.DoChan(key, func() (any, error) {
		t.mu.Lock()
		c, ok := t.client[key]
		t.mu.Unlock()
		if ok && c.access != rejected && (c.expiry.IsZero() || b.core.Now().Add(clientMargin).Before(c.expiry)) {
			return c.access, nil
		}
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if k := b.clientDPoP(provider); k != nil {
			gctx = oidc.WithDPoPKey(gctx, k) // the grant carries a proof: a DPoP-bound token
		}
		res, err := b.core.ClientCredentials(gctx, provider, pol.name, pol.params)
		if err != nil {
			return "", err
		}
		t.mu.Lock()
		if t.client == nil {
			t.client = map[string]clientToken{}
		}
		t.client[key] = clientToken{access: res.Tokens.AccessToken, expiry: res.Tokens.Expiry}
		t.mu.Unlock()
		return res.Tokens.AccessToken, nil
	})
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	}
}

// clientDPoP is the key the client tokens of provider are bound to: the
// instance's DPoP key when the provider is configured for DPoP
// (Provider.DPoP), else nil (bearer). A client token belongs to the
// instance (one grant per instance), so does its key: it lives in memory
// only, and a restart asks for new tokens with a new key.
func (b *BFF) clientDPoP(provider string) *ecdsa.PrivateKey {
	if !b.core.DPoP(provider) {
		return nil
	}
	t := &b.proxy.tokens
	t.keyOnce.Do(func() {
		k, err := oidc.NewDPoPKey()
		if err != nil {
			b.log.Error("proxy: cannot make the instance's DPoP key; client tokens are asked for without a proof", "err", err)
			return
		}
		t.key = k
	})
	return t.key
}

// upstreamAccess returns the token pol's upstream gets for a request with
// the session s (nil when signed out; token is its cookie token), and the
// session as it now is. rejected is a token the upstream just refused (""
// for none). An empty token with a nil error means no Authorization header
// (UpstreamTokenNone). Errors are *nextauth.Error (wrong_provider,
// unauthenticated, ErrSessionEnded, upstream_token_refused, a 503).
func (b *BFF) upstreamAccess(ctx context.Context, pol *upstreamPolicy, token string, s *session.Session, rejected string) (string, *session.Session, error) {
	if s == nil {
		if pol.token == UpstreamTokenUserOrClient {
			at, err := b.clientAccess(ctx, pol, rejected)
			return at, nil, err
		}
		return "", nil, nextauth.Unauthenticated("")
	}
	if pol.provider != "" && s.Data.Provider != pol.provider && pol.token != UpstreamTokenNone && pol.token != UpstreamTokenClient {
		return "", s, nextauth.NewError(nextauth.CodeWrongProvider, "")
	}
	switch pol.token {
	case UpstreamTokenNone:
		return "", s, nil
	case UpstreamTokenClient:
		at, err := b.clientAccess(ctx, pol, rejected)
		return at, s, err
	}
	if g, narrowed := pol.grant(); narrowed {
		return b.core.UpstreamToken(ctx, token, s, g, rejected)
	}
	access, s2, err := b.core.AccessToken(ctx, token, s)
	if err != nil || rejected == "" || access != rejected {
		return access, s2, err
	}
	s3, err := b.core.ForceRefresh(ctx, token, s2)
	if err != nil {
		return "", s2, err
	}
	if s3 == nil {
		return "", nil, nextauth.ErrSessionEnded
	}
	return s3.Data.Tokens.AccessToken, s3, nil
}

// servePolicy is serve's end for an upstream with a token policy: the
// session (optional for user-or-client), the provider check, the token.
func (p *proxy) servePolicy(w http.ResponseWriter, r *http.Request, pol *upstreamPolicy, call *proxyCall) {
	b := p.b
	var token string
	var s *session.Session
	if pol.token == UpstreamTokenUserOrClient {
		var err error
		token, s, _, err = b.core.LoadSession(r.Context(), b.cookieRequest(w, r))
		if err != nil {
			b.writeError(w, r, fetch, err)
			return
		}
	} else {
		var ok bool
		if token, s, ok = b.apiSession(w, r); !ok {
			return
		}
	}
	if !b.upstreamAllowed(w, r, call.name, s) {
		return
	}
	access, s, err := b.upstreamAccess(r.Context(), pol, token, s, "")
	if err != nil {
		b.writeError(w, r, fetch, err)
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, MaxProxyBody)
	}
	call.token, call.s, call.access = token, s, access
	if access != "" {
		call.dpop = b.upstreamDPoP(pol, s) // a DPoP-bound session's user token (proxy_dpop.go)
	}
	call.again = func(ctx context.Context, rejected string) (string, error) {
		at, _, err := b.upstreamAccess(ctx, pol, token, s, rejected)
		return at, err
	}
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), proxyCallKey{}, call)))
}

// retryAgain is retryTransport's retry for an upstream with a token policy:
// a new token for it (forced past the one refused), then the request once
// more - with a fresh DPoP proof for the new token (and the upstream's last
// nonce) when the call is DPoP-bound: the new token is the same session's,
// bound to the same key.
func retryAgain(t *retryTransport, req *http.Request, resp *http.Response, call *proxyCall) (*http.Response, error) {
	if call.access == "" {
		return resp, nil
	}
	at, err := call.again(req.Context(), call.access)
	if err != nil || at == "" || at == call.access {
		if err != nil && !nextauth.SessionEnded(err) {
			call.log().Warn("proxy: upstream answered 401 and no new token could be had", "upstream", call.name, "err", err)
		}
		return resp, nil
	}
	drain(resp)
	call.log().Info("proxy: upstream answered 401; retrying once with a new token", "upstream", call.name)
	again := req.Clone(req.Context())
	again.Header.Set("Authorization", "Bearer "+at)
	if call.dpop != nil {
		call.signDPoP(again.Header, again.Method, again.URL, at, t.nonces.get(call.name))
	}
	return t.base.RoundTrip(again)
}

// drain discards (a bounded part of) a response body and closes it.
func drain(resp *http.Response) {
	buf := make([]byte, 4096)
	for n := 0; n < 64<<10; {
		m, err := resp.Body.Read(buf)
		n += m
		if err != nil {
			break
		}
	}
	resp.Body.Close()
}

// AccessTokenFor returns the access token to call the upstream named
// upstream with (Options.Upstreams, with its UpstreamPolicies entry), as
// the proxy would send it: the session's own token, one obtained for that
// upstream (Resource, Scope, Audience), or authbff's client token. "" with
// a nil error: the upstream takes no token (UpstreamTokenNone). Errors are
// as for AccessToken, plus a *RequestError for wrong_provider (401) or
// upstream_token_refused (403), and for an unknown upstream.
//
// For a DPoP-bound session (Provider.DPoP) the user's tokens - the
// session's own and an upstream's narrowed one - are bound to the
// session's key: useless without a DPoP proof signed with it, which the
// host cannot make. Call such an upstream through Client or Transport,
// which send Authorization: DPoP with a fresh proof per request.
func (s *Session) AccessTokenFor(ctx context.Context, upstream string) (string, error) {
	at, _, err := s.accessKeyFor(ctx, upstream, "")
	return at, err
}

// accessKeyFor is AccessTokenFor (rejected: a token the API just refused)
// with the key the token is bound to (upstreamDPoP; nil: bearer).
func (s *Session) accessKeyFor(ctx context.Context, upstream, rejected string) (string, *ecdsa.PrivateKey, error) {
	if ctx.Done() == nil && s.reqCtx != nil {
		ctx = s.reqCtx
	}
	pol, err := s.b.policyOf(upstream)
	if err != nil {
		return "", nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at, s2, err := s.b.upstreamAccess(ctx, pol, s.token, s.s, rejected)
	if err != nil {
		var e *nextauth.Error
		switch {
		case nextauth.SessionEnded(err):
			return "", nil, ErrNoSession
		case nextauth.IsUnavailable(err):
			return "", nil, errors.Join(ErrUnavailable, err)
		case errors.As(err, &e) && e.Code == nextauth.CodeAccessTokenExpired:
			return "", nil, errors.Join(ErrAccessTokenExpired, err)
		}
		return "", nil, requestError(err)
	}
	if s2 != nil {
		s.s = s2
	}
	if at == "" {
		return "", nil, nil
	}
	return at, s.b.upstreamDPoP(pol, s2), nil
}

// policyOf returns the policy of a configured upstream (the default one,
// the session's token, when it has none).
func (b *BFF) policyOf(upstream string) (*upstreamPolicy, error) {
	name := strings.ToLower(upstream)
	if b.cfg.Upstreams[name] == nil {
		return nil, requestError(nextauth.NewError(nextauth.CodeUnknownUpstream, ""))
	}
	if pol := b.cfg.Policies[name]; pol != nil {
		return pol, nil
	}
	return &upstreamPolicy{name: name, token: UpstreamTokenUser}, nil
}
