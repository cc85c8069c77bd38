package config

import (
	"strings"
)

// ProviderVars are the names of the variables that configure a provider's
// client, for messages that tell a user what to change.
type ProviderVars struct {
	Issuer, ClientID, Secret, AuthStyle, Scope, UserInfo string
	// IDTokenAlgs and LogoutIDTokenHint are "" for Cognito, which has neither.
	IDTokenAlgs, LogoutIDTokenHint string
}

// Vars returns the variable names of p: AUTH_<ID>_ID, AUTH_<ID>_SECRET...
// for an OIDC provider; for Cognito the COGNITO_* spellings (COGNITO_CLIENT_ID,
// COGNITO_CLIENT_SECRET...), which Load reads besides AUTH_COGNITO_*.
func (p Provider) Vars() ProviderVars {
	if p.Cognito {
		return ProviderVars{
			Issuer: "COGNITO_ISSUER", ClientID: "COGNITO_CLIENT_ID", Secret: "COGNITO_CLIENT_SECRET",
			AuthStyle: "COGNITO_AUTH_STYLE", Scope: "COGNITO_SCOPE", UserInfo: "COGNITO_USERINFO",
		}
	}
	v := func(suffix string) string { return "AUTH_" + strings.ToUpper(p.ID) + suffix }
	return ProviderVars{
		Issuer: v("_ISSUER"), ClientID: v("_ID"), Secret: v("_SECRET"), AuthStyle: v("_AUTH_STYLE"),
		Scope: v("_SCOPE"), UserInfo: v("_USERINFO"),
		IDTokenAlgs: v("_ID_TOKEN_ALGS"), LogoutIDTokenHint: v("_LOGOUT_ID_TOKEN_HINT"),
	}
}

// oidcOptions reads an OIDC provider's ID token algorithms and its
// logout hint switch into p.
func (l *loader) oidcOptions(p *Provider, algsVar, hintVar string) {
	if s := l.env.get(algsVar); s != "" {
		for _, item := range strings.Fields(strings.ReplaceAll(s, ",", " ")) {
			alg, msg := canonicalAlg(item)
			if msg != "" {
				l.probs.add(algsVar, msg, "list asymmetric algorithms only, e.g. ES256 or \"RS256,EdDSA\" "+
					"(one of "+strings.Join(idTokenAlgs, ", ")+"), or unset it to accept those the provider's discovery lists")
				continue
			}
			if !contains(p.IDTokenAlgs, alg) {
				p.IDTokenAlgs = append(p.IDTokenAlgs, alg)
			}
		}
	}
	if s := l.env.get(hintVar); s != "" {
		b, err := parseBool(s)
		if err != nil {
			l.probs.add(hintVar, err.Error(), "set it to 1 (send the ID token as id_token_hint at sign-out) or 0")
		}
		p.LogoutIDTokenHint = b
	}
}
