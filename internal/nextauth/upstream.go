package nextauth

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/authbff/authbff/internal/oidc"
	rf "github.com/authbff/authbff/internal/refresh"
	"github.com/authbff/authbff/internal/session"
)

// UpstreamToken returns the access token of s for the upstream g names (a
// refresh grant narrowed by g's parameters, kept in the session; see
// refresh.Coordinator.Upstream), and the session as it now is. rejected is
// the token an upstream just refused (""): a new one is asked for unless
// another caller replaced it meanwhile. ErrSessionEnded when the provider
// refused the refresh token; CodeUpstreamTokenRefused when it refused the
// parameters (the session is kept); store and provider outages are
// CodeStoreUnavailable.
func (c *Core) UpstreamToken(ctx context.Context, token string, s *session.Session, g rf.Grant, rejected string) (string, *session.Session, error) {
	at, s2, err := c.refresher.Upstream(ctx, token, s, g, rejected)
	switch {
	case errors.Is(err, rf.ErrUpstreamRefused):
		e := NewError(CodeUpstreamTokenRefused, "")
		e.Err = err
		return "", s, e
	case err != nil:
		return "", s, storeErr(err)
	case s2 == nil:
		return "", nil, ErrSessionEnded
	}
	return at, s2, nil
}

// ClientCredentials runs a client credentials grant at provider id with
// params (resource, scope, audience). It counts the grant as kind "client"
// for upstream. Errors: CodeUpstreamTokenRefused when the provider refuses,
// CodeStoreUnavailable (503) when it cannot be reached.
func (c *Core) ClientCredentials(ctx context.Context, id, upstream string, params url.Values) (*oidc.Result, error) {
	p, ok := c.providers[id]
	if !ok {
		return nil, NewError(CodeInternal, "")
	}
	start := time.Now()
	res, err := p.client.ClientCredentials(ctx, params)
	result := rf.ResultOK
	if err != nil {
		result = rf.ResultFatal
		if oidc.IsTransient(err) {
			result = rf.ResultTransient
		}
	}
	c.metrics.UpstreamGrant(upstream, "client", result, time.Since(start))
	switch {
	case err == nil:
		return res, nil
	case result == rf.ResultTransient:
		return nil, unavailable(err)
	}
	e := NewError(CodeUpstreamTokenRefused, "")
	e.Err = err
	return nil, e
}

// DefaultProvider is the provider id a client token is asked of when an
// upstream names none: the first configured one.
func (c *Core) DefaultProvider() string {
	if len(c.order) == 0 {
		return ""
	}
	return c.order[0]
}

// DPoP reports whether provider id binds its tokens to a DPoP key
// (Provider.DPoP): a client credentials grant there is asked with a proof.
func (c *Core) DPoP(id string) bool {
	p, ok := c.providers[id]
	return ok && p.client.DPoP()
}

// HasProvider reports whether id is a configured provider.
func (c *Core) HasProvider(id string) bool { _, ok := c.providers[id]; return ok }

// CannotHonour asks provider id's discovery whether it can give a token by
// grant with params (oidc.Provider.CannotHonour): the reason it cannot,
// "" when nothing says so. Discovery failures are errors.
func (c *Core) CannotHonour(ctx context.Context, id, grant string, params url.Values) (string, error) {
	p, ok := c.providers[id]
	if !ok {
		return "no provider " + id, nil
	}
	return p.client.CannotHonour(ctx, grant, params)
}
