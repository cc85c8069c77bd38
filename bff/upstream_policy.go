package bff

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/nextauth"
	rf "github.com/authbff/authbff/internal/refresh"
)

// UpstreamToken is which access token an upstream receives.
type UpstreamToken string

// The upstream token policies.
const (
	// UpstreamTokenUser is the session's access token (the default): with
	// Resource, Scope or Audience, one obtained for this upstream with a
	// refresh grant carrying them, kept sealed in the session. A DPoP-bound
	// session's (Provider.DPoP) is bound to its key and sent as DPoP.
	UpstreamTokenUser UpstreamToken = "user"
	// UpstreamTokenClient is an access token of authbff itself (client
	// credentials grant); a session is still required. At a provider with
	// DPoP it is bound to a key of the instance and sent as DPoP.
	UpstreamTokenClient UpstreamToken = "client"
	// UpstreamTokenUserOrClient is the user's token when signed in, else
	// the client's; no session is needed.
	UpstreamTokenUserOrClient UpstreamToken = "user-or-client"
	// UpstreamTokenNone sends no Authorization header (the same-origin and
	// X-CSRF rules still apply; a session is still required).
	UpstreamTokenNone UpstreamToken = "none"
)

// UpstreamPolicy is how one upstream is called.
type UpstreamPolicy struct {
	// Token is which token the upstream receives ("" is UpstreamTokenUser).
	Token UpstreamToken
	// Resource are RFC 8707 resource indicators (absolute URIs, no
	// fragment) the upstream's token is asked for; sign-in asks for them
	// too (resource parameters on the authorization request), since a
	// provider narrows a refresh only to resources the user granted.
	Resource []string
	// Scope is the space-separated scope the upstream's token is asked for.
	Scope string
	// Audience is sent as audience (Auth0 and others).
	Audience string
	// Provider is the provider id whose tokens the upstream takes; "" is
	// the session's own (and the first provider for client tokens). A
	// session of another provider gets 401 wrong_provider.
	Provider string
	// WebSocket lets upgrades (WebSockets) through to the upstream.
	WebSocket bool
}

// upstreamPolicy is a validated UpstreamPolicy.
type upstreamPolicy struct {
	name     string
	token    UpstreamToken
	provider string
	params   url.Values // resource, scope, audience: "" when none
	ws       bool
}

// grant is the refresh grant of the upstream's user token; ok is false
// when the session's own access token is used (no parameters).
func (u *upstreamPolicy) grant() (rf.Grant, bool) {
	return rf.Grant{Upstream: u.name, Params: u.params}, len(u.params) > 0
}

// resolvePolicies checks UpstreamPolicies and adds the user tokens'
// resources to the providers' authorization parameters.
func (o Options) resolvePolicies(s *settings, p *problems) {
	for name, up := range o.UpstreamPolicies {
		field := fmt.Sprintf("UpstreamPolicies[%q]", name)
		key := strings.ToLower(name)
		if s.Upstreams[key] == nil {
			p.add(field, ": no upstream has this name: add it to Upstreams")
			continue
		}
		pol := &upstreamPolicy{name: key, token: up.Token, provider: up.Provider, ws: up.WebSocket, params: url.Values{}}
		switch up.Token {
		case "":
			pol.token = UpstreamTokenUser
		case UpstreamTokenUser, UpstreamTokenClient, UpstreamTokenUserOrClient, UpstreamTokenNone:
		default:
			p.add(field+".Token", " %q: use user, client, user-or-client or none", up.Token)
		}
		for i, r := range up.Resource {
			u, err := url.Parse(r)
			if err != nil || !u.IsAbs() || u.Fragment != "" {
				p.add(fmt.Sprintf("%s.Resource[%d]", field, i), " %q: give an absolute URI without a fragment (RFC 8707), e.g. https://api.example.com", r)
				continue
			}
			pol.params.Add("resource", r)
		}
		if up.Scope != "" {
			pol.params.Set("scope", up.Scope)
		}
		if up.Audience != "" {
			pol.params.Set("audience", up.Audience)
		}
		if up.Provider != "" && !slices.ContainsFunc(s.Providers, func(np nextauth.Provider) bool { return np.ID == up.Provider }) {
			p.add(field+".Provider", " %q: no provider has this id", up.Provider)
		}
		if s.Policies == nil {
			s.Policies = map[string]*upstreamPolicy{}
		}
		s.Policies[key] = pol
	}
	// Sign-in asks for every user token's resources (RFC 8707 servers
	// narrow a refresh only to resources the authorization request named).
	for i := range s.Providers {
		pr := &s.Providers[i]
		var res []string
		for _, pol := range s.Policies {
			if pol.token == UpstreamTokenClient || pol.token == UpstreamTokenNone || (pol.provider != "" && pol.provider != pr.ID) {
				continue
			}
			for _, r := range pol.params["resource"] {
				if !slices.Contains(res, r) {
					res = append(res, r)
				}
			}
		}
		if len(res) == 0 {
			continue
		}
		slices.Sort(res)
		ap := url.Values{}
		for k, vs := range pr.AuthorizationParams {
			ap[k] = slices.Clone(vs)
		}
		for _, r := range res {
			if !slices.Contains(ap["resource"], r) {
				ap.Add("resource", r)
			}
		}
		pr.AuthorizationParams = ap
	}
}

// upstreamPoliciesFromConfig maps the environment's policies to Options.
func upstreamPoliciesFromConfig(in map[string]config.UpstreamPolicy) map[string]UpstreamPolicy {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]UpstreamPolicy, len(in))
	for name, c := range in {
		out[name] = UpstreamPolicy{
			Token: UpstreamToken(c.Token), Resource: c.Resource, Scope: c.Scope, Audience: c.Audience,
			Provider: c.Provider, WebSocket: c.WebSocket,
		}
	}
	return out
}

// CheckUpstreams asks each provider's discovery whether it can give the
// upstreams' tokens (the grant in grant_types_supported, the scopes in
// scopes_supported, when discovery lists them) and returns every
// upstream it says it cannot, by field; the binary refuses to start on
// it. A provider that cannot be reached is only logged: the question is
// asked again at the first call.
func (b *BFF) CheckUpstreams(ctx context.Context) error {
	var p problems
	names := make([]string, 0, len(b.cfg.Policies))
	for n := range b.cfg.Policies {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		pol := b.cfg.Policies[name]
		grant := "refresh_token"
		switch {
		case pol.token == UpstreamTokenNone:
			continue
		case pol.token == UpstreamTokenClient || pol.token == UpstreamTokenUserOrClient:
			grant = "client_credentials"
		case len(pol.params) == 0:
			continue
		}
		ids := []string{pol.provider}
		if pol.provider == "" {
			ids = nil
			for _, pr := range b.cfg.Providers {
				ids = append(ids, pr.ID)
			}
			if grant == "client_credentials" && len(ids) > 0 {
				ids = ids[:1] // the client token's provider
			}
		}
		for _, id := range ids {
			why, err := b.core.CannotHonour(ctx, id, grant, pol.params)
			if err != nil {
				b.log.Warn("upstream token policy: the provider's discovery cannot be read now; checked again at the first call",
					"upstream", name, "provider", id, "err", err)
				continue
			}
			if why != "" {
				p.add(fmt.Sprintf("UpstreamPolicies[%q]", name), ": provider %s cannot give its token: %s", id, why)
			}
		}
	}
	if len(p) > 0 {
		return errors.Join(p...)
	}
	return nil
}
