package config

import (
	"fmt"
	"net/url"
	"strings"
)

// The provider presets NextAuth users configure by name (GitHub, Google,
// Microsoft Entra ID), the plain OAuth 2.0 kind (AUTH_<ID>_TYPE=oauth) and
// the default authorization parameters of every provider.

// presetIDs are the upper-cased ids whose AUTH_<ID>_* variables belong to
// a preset, not to a generic OIDC provider.
var presetIDs = map[string]bool{"GITHUB": true, "GOOGLE": true, "APPLE": true, "MICROSOFT_ENTRA_ID": true}

// protectedParams are the authorization parameters authbff sets itself.
var protectedParams = []string{
	"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "request", "request_uri", "response_mode",
}

// anySet reports whether any of vars is set.
func (l *loader) anySet(vars ...string) bool {
	for _, k := range vars {
		if l.env.get(k) != "" {
			return true
		}
	}
	return false
}

// github builds the GitHub preset from AUTH_GITHUB_* (v5) or GITHUB_ID /
// GITHUB_SECRET (the NextAuth v4 docs' names).
func (l *loader) github() (Provider, bool) {
	if !l.anySet("AUTH_GITHUB_ID", "AUTH_GITHUB_SECRET", "GITHUB_ID", "GITHUB_SECRET", "AUTH_GITHUB_ENTERPRISE_URL") {
		return Provider{}, false
	}
	p := Provider{ID: "github", Name: "GitHub", GitHub: true, Type: "oauth"}
	if n := l.env.get("AUTH_GITHUB_NAME"); n != "" {
		p.Name = n
	}
	var idVar, secretVar string
	p.ClientID, idVar = l.either("GITHUB_ID", "AUTH_GITHUB_ID")
	p.ClientSecret, secretVar = l.either("GITHUB_SECRET", "AUTH_GITHUB_SECRET")
	if p.ClientID == "" {
		l.probs.add("AUTH_GITHUB_ID", "is not set, but other GitHub variables are",
			"set AUTH_GITHUB_ID to the OAuth app's Client ID (GitHub > Settings > Developer settings > OAuth Apps)")
	}
	if p.ClientSecret == "" {
		l.probs.add("AUTH_GITHUB_SECRET", "is not set, but "+idVar+" is",
			"set it to a client secret generated on the OAuth app's page (GitHub does not support public clients)")
	}
	if e := l.env.get("AUTH_GITHUB_ENTERPRISE_URL"); e != "" {
		u, err := parseHTTPURL(e)
		if err != nil || (u.Path != "" && u.Path != "/") {
			l.probs.add("AUTH_GITHUB_ENTERPRISE_URL", fmt.Sprintf("%q is not a server URL", RedactURL(e)),
				"set it to the GitHub Enterprise Server's URL only, e.g. https://ghe.example.com (the API at /api/v3 is derived)")
		} else {
			p.GitHubEnterpriseURL = strings.TrimRight(u.String(), "/")
		}
	}
	l.clientOptions(&p, secretVar, "AUTH_GITHUB_SCOPE", "AUTH_GITHUB_AUTH_STYLE", "AUTH_GITHUB_USERINFO")
	p.Scopes = scopesOr(l.env.get("AUTH_GITHUB_SCOPE"), p.Scopes, nil)
	l.authParams(&p, "AUTH_GITHUB_AUTHORIZATION_PARAMS")
	return p, true
}

// google builds the Google preset from AUTH_GOOGLE_* or GOOGLE_CLIENT_ID /
// GOOGLE_CLIENT_SECRET.
func (l *loader) google() (Provider, bool) {
	if !l.anySet("AUTH_GOOGLE_ID", "AUTH_GOOGLE_SECRET", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET") {
		return Provider{}, false
	}
	p := Provider{ID: "google", Name: "Google", Google: true, Issuer: "https://accounts.google.com"}
	if n := l.env.get("AUTH_GOOGLE_NAME"); n != "" {
		p.Name = n
	}
	var secretVar string
	p.ClientID, _ = l.either("GOOGLE_CLIENT_ID", "AUTH_GOOGLE_ID")
	p.ClientSecret, secretVar = l.either("GOOGLE_CLIENT_SECRET", "AUTH_GOOGLE_SECRET")
	if p.ClientID == "" {
		l.probs.add("AUTH_GOOGLE_ID", "is not set, but other Google variables are",
			"set it to the OAuth client ID (Google Cloud console > APIs & Services > Credentials)")
	}
	if iss := l.env.get("AUTH_GOOGLE_ISSUER"); iss != "" {
		if _, err := parseIssuer(iss); err != nil {
			l.probs.add("AUTH_GOOGLE_ISSUER", err.Error(), "unset it (Google's issuer is https://accounts.google.com); it exists for tests")
		}
		p.Issuer = iss
	}
	p.HostedDomain = strings.ToLower(l.env.get("AUTH_GOOGLE_HOSTED_DOMAIN"))
	l.clientOptions(&p, secretVar, "AUTH_GOOGLE_SCOPE", "AUTH_GOOGLE_AUTH_STYLE", "AUTH_GOOGLE_USERINFO")
	l.oidcOptions(&p, "AUTH_GOOGLE_ID_TOKEN_ALGS", "AUTH_GOOGLE_LOGOUT_ID_TOKEN_HINT")
	l.authParams(&p, "AUTH_GOOGLE_AUTHORIZATION_PARAMS")
	return p, true
}

// entra builds Microsoft Entra ID from AUTH_MICROSOFT_ENTRA_ID_* (v5 names;
// provider id microsoft-entra-id). The default issuer is the multi-tenant
// https://login.microsoftonline.com/common/v2.0, which needs
// AUTH_MICROSOFT_ENTRA_ID_TENANTS.
func (l *loader) entra() (Provider, bool) {
	const v = "AUTH_MICROSOFT_ENTRA_ID_"
	if !l.anySet(v+"ID", v+"SECRET", v+"ISSUER", v+"TENANTS") {
		return Provider{}, false
	}
	p := Provider{ID: "microsoft-entra-id", Name: "Microsoft Entra ID", Issuer: "https://login.microsoftonline.com/common/v2.0",
		ClientID: l.env.get(v + "ID"), ClientSecret: l.env.get(v + "SECRET")}
	if n := l.env.get(v + "NAME"); n != "" {
		p.Name = n
	}
	if p.ClientID == "" {
		l.probs.add(v+"ID", "is not set, but other Entra variables are",
			"set it to the app registration's Application (client) ID (Entra admin center > App registrations)")
	}
	if iss := l.env.get(v + "ISSUER"); iss != "" {
		if _, err := parseIssuer(iss); err != nil {
			l.probs.add(v+"ISSUER", err.Error(),
				"set it to https://login.microsoftonline.com/<tenant id>/v2.0 (one tenant) or .../common/v2.0 (several, with "+v+"TENANTS)")
		}
		p.Issuer = iss
	}
	p.Tenants = splitList(l.env.get(v + "TENANTS"))
	if multiTenant(p.Issuer) && len(p.Tenants) == 0 {
		l.probs.add(v+"TENANTS", "is not set, but the issuer "+p.Issuer+" is multi-tenant: any Microsoft Entra ID tenant could sign in",
			"list the tenant ids allowed (Entra admin center > Overview > Tenant ID), comma separated, or * to allow every tenant knowingly; "+
				"or set "+v+"ISSUER to your tenant's https://login.microsoftonline.com/<tenant id>/v2.0")
	}
	l.clientOptions(&p, v+"SECRET", v+"SCOPE", v+"AUTH_STYLE", v+"USERINFO")
	l.clientAuth(&p, v)
	if p.AuthStyle == AuthStylePrivateKeyJWT && p.ClientAssertionAudience == "" {
		p.ClientAssertionAudience = "token_endpoint" // Entra wants aud = its token endpoint
	}
	l.oidcOptions(&p, v+"ID_TOKEN_ALGS", v+"LOGOUT_ID_TOKEN_HINT")
	l.authParams(&p, v+"AUTHORIZATION_PARAMS")
	return p, true
}

// multiTenant reports whether an Entra issuer is multi-tenant (its first
// path segment is common, organizations or consumers).
func multiTenant(issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	return first == "common" || first == "organizations" || first == "consumers"
}

// oauthType reads AUTH_<ID>_TYPE; for "oauth" it fills the plain OAuth 2.0
// provider from prefix+AUTHORIZATION_URL, TOKEN_URL, USERINFO_URL,
// PROFILE_MAP (and the client options) and reports true.
func (l *loader) oauthType(p *Provider, prefix string) bool {
	switch t := strings.ToLower(l.env.get(prefix + "TYPE")); t {
	case "", "oidc":
		return false
	case "oauth", "oauth2":
	default:
		l.probs.add(prefix+"TYPE", fmt.Sprintf("%q is not a provider type", t), "set it to oauth (plain OAuth 2.0) or oidc (the default)")
		return false
	}
	p.Type = "oauth"
	if l.env.get(prefix+"ISSUER") != "" {
		l.probs.add(prefix+"ISSUER", "is set, but "+prefix+"TYPE is oauth", "remove it: a plain OAuth 2.0 provider has no issuer")
	}
	for _, f := range []struct {
		suffix string
		dst    *string
	}{{"AUTHORIZATION_URL", &p.AuthorizationURL}, {"TOKEN_URL", &p.TokenURL}, {"USERINFO_URL", &p.UserinfoURL}} {
		raw := l.env.get(prefix + f.suffix)
		if raw == "" {
			l.probs.add(prefix+f.suffix, "is not set, but "+prefix+"TYPE is oauth",
				"set "+prefix+"AUTHORIZATION_URL, _TOKEN_URL and _USERINFO_URL to the provider's endpoints")
			continue
		}
		if _, err := parseIssuer(raw); err != nil {
			l.probs.add(prefix+f.suffix, err.Error(), "give the provider's https:// endpoint (http:// only on localhost)")
			continue
		}
		*f.dst = raw
	}
	if s := l.env.get(prefix + "PROFILE_MAP"); s != "" {
		p.ProfileMap = map[string]string{}
		for _, item := range strings.Fields(strings.ReplaceAll(s, ",", " ")) {
			k, val, ok := strings.Cut(item, "=")
			if !ok || k == "" || val == "" {
				l.probs.add(prefix+"PROFILE_MAP", fmt.Sprintf("%q is not field=key", item),
					`write it as "sub=id name=name|login email=email image=avatar_url"`)
				continue
			}
			p.ProfileMap[k] = val
		}
	}
	if p.ClientID == "" {
		l.probs.add(prefix+"ID", "is not set, but "+prefix+"TYPE is", "set it to the client id registered at the provider")
	}
	l.clientOptions(p, prefix+"SECRET", prefix+"SCOPE", prefix+"AUTH_STYLE", prefix+"USERINFO")
	p.Scopes = scopesOr(l.env.get(prefix+"SCOPE"), p.Scopes, nil)
	l.authParams(p, prefix+"AUTHORIZATION_PARAMS")
	return true
}

// scopesOr keeps the parsed scopes when the variable was set, else def.
func scopesOr(raw string, parsed, def []string) []string {
	if raw != "" {
		return parsed
	}
	return def
}

// authParams reads a provider's default authorization parameters (a query
// string), refusing the ones authbff sets itself.
func (l *loader) authParams(p *Provider, name string) {
	raw := l.env.get(name)
	if raw == "" {
		return
	}
	q, err := url.ParseQuery(strings.TrimPrefix(raw, "?"))
	if err != nil {
		l.probs.add(name, "is not a query string: "+err.Error(), "write it as a=1&b=2, e.g. audience=https://api.example.com")
		return
	}
	for _, k := range protectedParams {
		if q.Has(k) {
			l.probs.add(name, "sets "+k+", which authbff sets itself", "remove "+k+" (scopes go in the provider's _SCOPE variable)")
			q.Del(k)
		}
	}
	p.AuthorizationParams = q
}
