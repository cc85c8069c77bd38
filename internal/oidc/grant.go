package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2/clientcredentials"
)

// grantParams are the parameters RefreshWith and ClientCredentials pass on
// (RFC 8707 resource, scope, and audience as Auth0 and others read it).
var grantParams = []string{"resource", "scope", "audience"}

// RefreshWith redeems refreshToken with extra parameters (resource, scope,
// audience) for an access token meant for one API: RFC 8707's narrowing of
// a grant. Unlike Refresh it does not touch the session's identity: the
// answer's ID token, if any, is verified but its profile is not used. The
// returned refresh token is the rotated one, or refreshToken when the
// provider did not rotate it. Errors are as for Refresh.
func (p *Provider) RefreshWith(ctx context.Context, refreshToken string, params url.Values) (*Result, error) {
	if refreshToken == "" {
		return nil, errors.New("oidc: refresh: refresh token is required")
	}
	v := pick(params)
	v.Set("grant_type", "refresh_token")
	v.Set("refresh_token", refreshToken)
	res, err := p.grant(ctx, "refresh", v)
	if err != nil {
		return nil, err
	}
	if res.Tokens.RefreshToken == "" {
		res.Tokens.RefreshToken = refreshToken
	}
	return res, nil
}

// ClientCredentials runs a client credentials grant (RFC 6749 4.4) with
// params (resource, scope, audience): an access token of authbff itself.
func (p *Provider) ClientCredentials(ctx context.Context, params url.Values) (*Result, error) {
	v := pick(params)
	v.Set("grant_type", "client_credentials")
	res, err := p.grant(ctx, "client_credentials", v)
	if err != nil {
		return nil, err
	}
	res.Tokens.RefreshToken = "" // never used: a client token is asked for again
	return res, nil
}

// pick copies the allowed parameters of params.
func pick(params url.Values) url.Values {
	v := url.Values{}
	for _, k := range grantParams {
		if vs := params[k]; len(vs) > 0 {
			v[k] = append([]string(nil), vs...)
		}
	}
	return v
}

// grant posts v to the token endpoint with the client's authentication
// (x/oauth2's clientcredentials, whose grant_type may be overridden).
func (p *Provider) grant(ctx context.Context, op string, v url.Values) (*Result, error) {
	var e endpoints
	if p.isOAuth2() {
		e = p.oauth2Endpoints()
	} else {
		var err error
		if e, err = p.endpoints(ctx); err != nil {
			return nil, fmt.Errorf("oidc: %s: %w", op, err)
		}
	}
	oc := p.oauthConfig(e)
	scope := v.Get("scope")
	v.Del("scope")
	cc := &clientcredentials.Config{
		ClientID: oc.ClientID, ClientSecret: oc.ClientSecret, TokenURL: oc.Endpoint.TokenURL,
		AuthStyle: oc.Endpoint.AuthStyle, EndpointParams: v,
	}
	if scope != "" {
		cc.Scopes = strings.Fields(scope)
	}
	tok, err := cc.Token(p.httpContext(ctx))
	if err != nil {
		return nil, p.tokenErr(ctx, op, err)
	}
	res, err := p.checkTokenResponse(ctx, tok, "", false)
	if err != nil {
		return nil, fmt.Errorf("oidc: %s: %w", op, err)
	}
	return res, nil
}

// CannotHonour reports, from discovery, why the provider cannot give a
// token with params by grant ("refresh_token" or "client_credentials"):
// the grant is missing from grant_types_supported, or a requested scope
// from scopes_supported. "" when discovery lists no reason (or lists
// nothing); an error when discovery fails.
func (p *Provider) CannotHonour(ctx context.Context, grant string, params url.Values) (string, error) {
	if p.isOAuth2() {
		return "", nil
	}
	m, err := p.discover(ctx)
	if err != nil {
		return "", fmt.Errorf("oidc: %w", err)
	}
	if len(m.GrantTypesSupported) > 0 && !slices.Contains(m.GrantTypesSupported, grant) {
		return "its discovery does not list the " + grant + " grant", nil
	}
	if len(m.ScopesSupported) > 0 {
		for _, sc := range strings.Fields(params.Get("scope")) {
			if !slices.Contains(m.ScopesSupported, sc) {
				return "its discovery does not list the scope " + sc, nil
			}
		}
	}
	return "", nil
}
