package oidc

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Issuer rules of the providers whose ID tokens do not simply carry the
// configured issuer: Google (Config.Google) and Microsoft Entra ID's
// multi-tenant issuers (Config.Tenants), plus the sign-in restrictions
// checked on ID token claims (Config.HostedDomain, the tenant allow-list).

// ErrNotAllowed wraps an ID token that is valid but names a user the
// configuration does not let in: a Google account outside
// Config.HostedDomain, an Entra tenant not in Config.Tenants. The caller
// answers it as a refused sign-in (AccessDenied), not a broken one.
var ErrNotAllowed = errors.New("oidc: sign-in not allowed")

// TenantPlaceholder is the part of a multi-tenant Entra issuer that stands
// for the tenant id in its discovery document's issuer.
const TenantPlaceholder = "{tenantid}"

// multiTenant reports whether template (a discovery document's issuer) is
// the multi-tenant template of the configured issuer: Config.Tenants is
// set, template holds {tenantid}, and template with {tenantid} replaced by
// the configured issuer's tenant segment ("common", "organizations") is
// the configured issuer.
func (p *Provider) multiTenant(template string) bool {
	if len(p.cfg.Tenants) == 0 || !strings.Contains(template, TenantPlaceholder) {
		return false
	}
	pre, post, _ := strings.Cut(template, TenantPlaceholder)
	iss := p.issuer()
	if !strings.HasPrefix(iss, pre) || !strings.HasSuffix(iss, post) || len(iss) <= len(pre)+len(post) {
		return false
	}
	seg := iss[len(pre) : len(iss)-len(post)]
	return !strings.ContainsAny(seg, "/?#")
}

// issuerTemplate returns the cached discovery issuer when it is a
// multi-tenant template, else "".
func (p *Provider) issuerTemplate() string {
	p.discMu.Lock()
	defer p.discMu.Unlock()
	if p.meta != nil && p.meta.Issuer != p.issuer() && p.multiTenant(p.meta.Issuer) {
		return p.meta.Issuer
	}
	return ""
}

// issuerOK reports whether c's iss names the provider: exactly the
// issuer; for Google also the issuer without its scheme (Google documents
// both "https://accounts.google.com" and "accounts.google.com"); for a
// multi-tenant Entra issuer exactly the template with the token's own tid.
func (p *Provider) issuerOK(c *Claims) bool {
	if t := p.issuerTemplate(); t != "" {
		// Never the configured ".../common/v2.0" itself: only the tenant's.
		tid, _ := c.Raw["tid"].(string)
		return tid != "" && !strings.ContainsAny(tid, "/?#{}") && c.Issuer == strings.Replace(t, TenantPlaceholder, tid, 1)
	}
	iss := p.issuer()
	if c.Issuer == iss {
		return true
	}
	if p.cfg.Google {
		_, bare, ok := strings.Cut(iss, "://")
		return ok && c.Issuer == bare
	}
	return false
}

// checkAllowed applies the claim restrictions (hd, tid) to a token whose
// iss passed issuerOK, then makes c.Issuer the configured issuer (so that
// sessions and refreshed tokens compare equal whatever spelling or tenant
// the token used; the token's own iss stays in Raw).
func (p *Provider) checkAllowed(c *Claims) error {
	if hd := p.cfg.HostedDomain; hd != "" {
		if got, _ := c.Raw["hd"].(string); !strings.EqualFold(got, hd) {
			return fmt.Errorf("%w: the account's hosted domain (hd) %q is not %q", ErrNotAllowed, LogText(got), hd)
		}
	}
	if p.issuerTemplate() != "" {
		tid, _ := c.Raw["tid"].(string)
		if !slices.Contains(p.cfg.Tenants, "*") && !slices.Contains(p.cfg.Tenants, tid) {
			return fmt.Errorf("%w: tenant (tid) %q is not in the allowed tenants", ErrNotAllowed, LogText(tid))
		}
	}
	c.Issuer = p.issuer()
	return nil
}
