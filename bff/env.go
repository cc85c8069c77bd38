package bff

import (
	"fmt"
	"net/netip"
	"os"

	"github.com/authbff/authbff/internal/bffhook"
	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/spa"
)

func init() {
	bffhook.OptionsFromConfig = func(c *config.Config) (any, error) { return fromConfig(c) }
	bffhook.Resolve = func(o any) (*nextauth.Settings, []nextauth.Provider, error) {
		s, err := o.(Options).resolve()
		if err != nil {
			return nil, nil, err
		}
		return &s.Settings, s.Providers, nil
	}
	bffhook.Internals = func(b any) (*nextauth.Core, *devidp.IdP) {
		bb := b.(*BFF)
		return bb.core, bb.devidp
	}
}

// OptionsFromEnv maps the environment, and the .env.local/.env files of the
// working directory (Next.js's order), to Options: the variables of the
// README's configuration table, with the authbff binary's defaults
// (DataDir ./data, so sessions persist in ./data/sessions.db; the bundled
// SPA, or SPA_DIR). With no provider configured and NODE_ENV not
// production (or AUTHBFF_DEV_IDP=1) it sets DevIdP. Every problem it finds
// is listed at once in the error, named by variable; New then checks the
// Options themselves.
func OptionsFromEnv() (Options, error) {
	cfg, err := config.Load(config.FromOS())
	if err != nil {
		return Options{}, err
	}
	return fromConfig(cfg)
}

// fromConfig maps a loaded environment to Options, one way.
func fromConfig(c *config.Config) (Options, error) {
	o := Options{
		URL: c.URL.String(), Flavor: Flavor(c.Flavor), DataDir: c.DataDir, StoreSpec: c.SessionStore,
		SessionMaxAge: c.MaxAge, SessionUpdateAge: c.UpdateAge, SessionCacheTTL: c.SessionCacheTTL,
		SessionAbsoluteMaxAge: c.AbsoluteMaxAge, SessionMaxPerUser: c.MaxSessionsPerUser,
		RefreshMargin: c.RefreshMargin, RefreshOnSession: c.RefreshOnSession, FederatedSignout: c.FederatedSignout,
		ProtectedPaths: c.ProtectedPaths, CORSOrigins: c.CORSOrigins,
		AllowedGroups: c.AllowedGroups, AllowedEmailDomains: c.AllowedEmailDomains,
		SessionGroups: c.SessionGroups, Upstreams: map[string]string{}, DevIdP: c.DevIdP,
	}
	o.SessionClaims, o.SessionUserID, o.SessionUpdatable = c.SessionClaims, c.SessionUserID, c.SessionUpdatable
	o.UpstreamGroups = c.UpstreamGroups
	if c.SessionCacheTTL == 0 {
		o.SessionCacheTTL = -1 // AUTH_SESSION_CACHE_TTL=0 turns the cache off
	}
	for _, s := range c.Secrets {
		o.Secrets = append(o.Secrets, string(s))
	}
	for name, u := range c.Upstreams {
		o.Upstreams[name] = u.String()
	}
	o.UpstreamPolicies = upstreamPoliciesFromConfig(c.UpstreamPolicies)
	o.CookieSameSite, o.CookiePrefix = c.CookieSameSite, c.CookiePrefix
	for name, su := range c.UpstreamStepUp {
		if o.UpstreamStepUp == nil {
			o.UpstreamStepUp = map[string]StepUp{}
		}
		o.UpstreamStepUp[name] = StepUp{ACR: su.ACR, MaxAge: su.MaxAge}
	}
	// The loader checked both lists; a parse failure here is a bug there.
	for _, s := range c.TrustedProxies {
		p, err := parsePrefix(s)
		if err != nil {
			return Options{}, fmt.Errorf("TRUSTED_PROXIES: %w", err)
		}
		o.TrustedProxies = append(o.TrustedProxies, p)
	}
	for _, s := range c.DevIdPAllowCIDRs {
		p, err := parsePrefix(s)
		if err != nil {
			return Options{}, fmt.Errorf("DEVIDP_ALLOW_CIDRS: %w", err)
		}
		o.DevIdPAllowCIDRs = append(o.DevIdPAllowCIDRs, p)
	}
	for _, p := range c.Providers {
		o.Providers = append(o.Providers, Provider{
			ID: p.ID, Name: p.Name, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
			Cognito: p.Cognito, CognitoDomain: p.CognitoDomain, Scopes: p.Scopes, AuthStyle: AuthStyle(p.AuthStyle),
			UserInfo: p.UserInfo, IDTokenAlgs: p.IDTokenAlgs, LogoutIDTokenHint: p.LogoutIDTokenHint,
			Type: ProviderType(p.Type), AuthorizationURL: p.AuthorizationURL, TokenURL: p.TokenURL, UserinfoURL: p.UserinfoURL,
			ProfileMap: p.ProfileMap, GitHub: p.GitHub, GitHubEnterpriseURL: p.GitHubEnterpriseURL,
			Apple: p.Apple, AppleTeamID: p.AppleTeamID, AppleKeyID: p.AppleKeyID, ApplePrivateKey: p.ApplePrivateKey,
			Google: p.Google, HostedDomain: p.HostedDomain, Tenants: p.Tenants, AuthorizationParams: p.AuthorizationParams,
			GroupsClaim: p.GroupsClaim,
			ClientKey:   p.ClientKey, ClientKeyID: p.ClientKeyID, PAR: PARMode(p.PAR), DPoP: p.DPoP, ClientAssertionAudience: p.ClientAssertionAudience,
		})
	}
	so := spa.Options{}
	if c.SPADir != "" {
		so.FS = os.DirFS(c.SPADir)
	}
	h, err := spa.New(so)
	if err != nil {
		name := "the bundled SPA"
		if c.SPADir != "" {
			name = "SPA_DIR=" + c.SPADir
		}
		return Options{}, fmt.Errorf("%s: %w", name, err)
	}
	o.SPA = h
	return o, nil
}

// parsePrefix reads a CIDR, or an IP as its single-address network.
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an IP address nor a CIDR", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
