package bff

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/validate"
)

// Google's issuer and the authorization parameters a refresh token needs.
const (
	appleIssuer  = "https://appleid.apple.com"
	googleIssuer = "https://accounts.google.com"
	googleParams = "access_type=offline&prompt=consent"
)

// protectedAuthParams are the authorization parameters authbff sets itself;
// AuthorizationParams may not name them.
var protectedAuthParams = []string{
	"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "request", "request_uri", "response_mode",
}

// preset fills the fields a GitHub or Google preset implies, leaving what
// the caller set.
func (pr Provider) preset() Provider {
	switch {
	case pr.GitHub:
		if pr.ID == "" {
			pr.ID = "github"
		}
		if pr.Name == "" {
			pr.Name = "GitHub"
		}
		if pr.Type == "" {
			pr.Type = ProviderOAuth
		}
		if len(pr.Scopes) == 0 {
			pr.Scopes = []string{"read:user", "user:email"}
		}
	case pr.Apple:
		if pr.ID == "" {
			pr.ID = "apple"
		}
		if pr.Name == "" {
			pr.Name = "Apple"
		}
		if pr.Issuer == "" {
			pr.Issuer = appleIssuer
		}
		if len(pr.Scopes) == 0 {
			pr.Scopes = []string{"name", "email"}
		}
		if pr.AuthStyle == AuthStyleAuto {
			pr.AuthStyle = AuthStylePost
		}
	case pr.Google:
		if pr.ID == "" {
			pr.ID = "google"
		}
		if pr.Name == "" {
			pr.Name = "Google"
		}
		if pr.Issuer == "" {
			pr.Issuer = googleIssuer
		}
		if pr.AuthorizationParams == nil {
			pr.AuthorizationParams, _ = url.ParseQuery(googleParams)
		}
	}
	return pr
}

// resolveKind checks and maps the fields of the provider kinds beyond
// plain OIDC: Type oauth with its endpoints and profile map, the GitHub
// and Google presets, Entra's tenants, the default authorization params.
func (pr Provider) resolveKind(field string, np *nextauth.Provider, p *problems) {
	switch pr.Type {
	case "", ProviderOIDC, ProviderOAuth:
	default:
		p.add(field+".Type", " %q: use ProviderOIDC (oidc) or ProviderOAuth (oauth)", pr.Type)
	}
	if pr.GitHub && pr.Type != ProviderOAuth {
		p.add(field+".Type", " is %q, but GitHub is plain OAuth 2.0: leave Type empty", pr.Type)
	}
	oauth := pr.Type == ProviderOAuth
	switch {
	case pr.GitHub:
		ent := ""
		if pr.GitHubEnterpriseURL != "" {
			u, err := validate.HTTPURL(pr.GitHubEnterpriseURL)
			if err != nil {
				p.add(field+".GitHubEnterpriseURL", " %v: give the GitHub Enterprise Server's URL, e.g. https://ghe.example.com", err)
			} else {
				ent = strings.TrimRight(u.String(), "/")
			}
		}
		np.OAuth2 = oidc.GitHubOAuth2(ent)
		if len(pr.ProfileMap) > 0 {
			np.OAuth2.Profile = pr.profileMap(field, p)
		}
	case oauth:
		np.OAuth2 = &oidc.OAuth2{Profile: pr.profileMap(field, p)}
		for name, v := range map[string]*string{"AuthorizationURL": &pr.AuthorizationURL, "TokenURL": &pr.TokenURL, "UserinfoURL": &pr.UserinfoURL} {
			if *v == "" {
				p.add(field+"."+name, " is empty: a plain OAuth 2.0 provider needs its authorization, token and userinfo URLs")
				continue
			}
			if _, err := validate.Issuer(*v); err != nil {
				p.add(field+"."+name, " %v: give the provider's https:// endpoint", err)
			}
		}
		np.OAuth2.AuthorizationURL, np.OAuth2.TokenURL, np.OAuth2.UserInfoURL = pr.AuthorizationURL, pr.TokenURL, pr.UserinfoURL
	default:
		for name, v := range map[string]string{"AuthorizationURL": pr.AuthorizationURL, "TokenURL": pr.TokenURL, "UserinfoURL": pr.UserinfoURL} {
			if v != "" {
				p.add(field+"."+name, " is set, but Type is not oauth: an OIDC provider's endpoints come from its discovery (set Type to ProviderOAuth)")
			}
		}
		if len(pr.ProfileMap) > 0 {
			p.add(field+".ProfileMap", " is set, but Type is not oauth: an OIDC provider's profile comes from its ID token")
		}
	}
	if pr.GitHubEnterpriseURL != "" && !pr.GitHub {
		p.add(field+".GitHubEnterpriseURL", " is set without GitHub: set GitHub too")
	}
	np.Google = pr.Google
	params := url.Values{}
	for k, vs := range pr.AuthorizationParams {
		if slices.Contains(protectedAuthParams, k) {
			p.add(field+".AuthorizationParams", " sets %q, which authbff sets itself: remove it (scopes go in Scopes)", k)
			continue
		}
		params[k] = slices.Clone(vs)
	}
	if hd := strings.ToLower(strings.TrimSpace(pr.HostedDomain)); hd != "" {
		if oauth {
			p.add(field+".HostedDomain", " is set on a plain OAuth 2.0 provider: hd is an ID token claim (Google)")
		}
		np.HostedDomain = hd
		if params.Get("hd") == "" {
			params.Set("hd", hd)
		}
	}
	if len(params) > 0 {
		np.AuthorizationParams = params
	}
	pr.resolveTenants(field, np, p)
	pr.resolveApple(field, np, p)
}

// resolveApple checks Sign in with Apple's key and mints nothing yet (the
// provider does, on first use); a key that does not parse is a problem.
func (pr Provider) resolveApple(field string, np *nextauth.Provider, p *problems) {
	if !pr.Apple {
		for name, v := range map[string]string{"AppleTeamID": pr.AppleTeamID, "AppleKeyID": pr.AppleKeyID, "ApplePrivateKey": pr.ApplePrivateKey} {
			if v != "" {
				p.add(field+"."+name, " is set without Apple: set Apple too")
			}
		}
		return
	}
	if pr.ClientSecret != "" {
		p.add(field+".ClientSecret", " is set, but Apple's client secret is minted from ApplePrivateKey: remove it")
	}
	if pr.AuthStyle != AuthStylePost {
		p.add(field+".AuthStyle", " is %q, but Apple takes the minted secret as client_secret_post: leave it empty", pr.AuthStyle)
	}
	for name, v := range map[string]string{"AppleTeamID": pr.AppleTeamID, "AppleKeyID": pr.AppleKeyID} {
		if v == "" {
			p.add(field+"."+name, " is empty: copy it from the Apple developer portal (Membership for the team id, Keys for the key id)")
		}
	}
	key, err := oidc.ParseAppleKey([]byte(pr.ApplePrivateKey))
	if err != nil {
		p.add(field+".ApplePrivateKey", " %v: give the text of the .p8 file downloaded from Certificates, Identifiers & Profiles > Keys", err)
		return
	}
	np.Apple = &oidc.AppleKey{TeamID: pr.AppleTeamID, KeyID: pr.AppleKeyID, Key: key}
}

// profileMap checks ProfileMap and returns it for oidc; nil when empty
// (the default map).
func (pr Provider) profileMap(field string, p *problems) oidc.ProfileMap {
	if len(pr.ProfileMap) == 0 {
		return nil
	}
	keys := make([]string, 0, len(pr.ProfileMap))
	for k := range pr.ProfileMap {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s ", k, pr.ProfileMap[k])
	}
	m, err := oidc.ParseProfileMap(b.String())
	if err != nil {
		p.add(field+".ProfileMap", " %v: map at least sub, e.g. {\"sub\": \"id\", \"name\": \"name|login\"}", err)
	}
	return m
}

// resolveTenants checks Entra's tenant list against the issuer: a
// multi-tenant issuer (/common, /organizations, /consumers) needs one.
func (pr Provider) resolveTenants(field string, np *nextauth.Provider, p *problems) {
	for i, t := range pr.Tenants {
		t = strings.TrimSpace(t)
		if t == "" || strings.ContainsAny(t, "/?#{} ") {
			p.add(fmt.Sprintf("%s.Tenants[%d]", field, i), " %q is not a tenant id: give the directory (tenant) id, a GUID, or \"*\"", t)
			continue
		}
		np.Tenants = append(np.Tenants, t)
	}
	if !validate.MultiTenantIssuer(pr.Issuer) {
		return
	}
	if len(pr.Tenants) == 0 {
		p.add(field+".Tenants", " is empty, but Issuer %s lets every Microsoft Entra ID tenant sign in: "+
			"list the tenant ids allowed (Entra admin center > Overview > Tenant ID), or \"*\" to allow every tenant knowingly", pr.Issuer)
	}
}
