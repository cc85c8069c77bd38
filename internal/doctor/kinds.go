package doctor

import (
	"slices"
	"strings"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/oidc"
)

// checkKind reports what the provider kinds beyond plain OIDC need: Apple's
// key mints a client secret; Entra's tenant list; Google's hosted domain;
// a plain OAuth 2.0 provider's endpoints and profile map.
func checkKind(r *Report, pc nextauth.Provider, p *oidc.Provider) {
	report := func(pass bool, what string) { r.Add(pass, pc.ID, what, "") }
	switch {
	case pc.Apple != nil:
		if _, err := p.MintAppleSecret(); err != nil {
			r.Add(false, pc.ID, "Apple: cannot mint the client secret from the .p8 key: "+Shorten(err.Error(), 120),
				"download the key again (Certificates, Identifiers & Profiles > Keys) and set AUTH_APPLE_PRIVATE_KEY_FILE")
		} else {
			report(true, "Apple: the .p8 key parses and a client secret (ES256, iss "+pc.Apple.TeamID+", sub "+pc.ClientID+
				") was minted; authbff renews it before it expires")
		}
	case len(pc.Tenants) > 0:
		if slices.Contains(pc.Tenants, "*") {
			r.Warn(pc.ID, "Entra: every Microsoft Entra ID tenant may sign in (tenants *)",
				"list your tenant ids in AUTH_MICROSOFT_ENTRA_ID_TENANTS to restrict it")
		} else {
			report(true, "Entra: tenants allowed through the multi-tenant issuer: "+strings.Join(pc.Tenants, ", "))
		}
	case pc.OAuth2 != nil:
		what := "plain OAuth 2.0: no ID token, the user is read from " + pc.OAuth2.UserInfoURL
		if pc.OAuth2.GitHubAPI != "" {
			what += " (e-mail: the primary verified address of /user/emails when /user has none)"
		}
		report(true, what)
	}
	if pc.HostedDomain != "" {
		report(true, "only accounts of the hosted domain "+pc.HostedDomain+" may sign in (the ID token's hd claim is checked)")
	}
}
