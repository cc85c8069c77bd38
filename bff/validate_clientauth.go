package bff

import (
	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/oidc"
)

// assertionStyle resolves the client assertion styles (private_key_jwt,
// client_secret_jwt); ok is false for any other style.
func assertionStyle(field string, pr Provider, p *problems) (oidc.AuthStyle, bool) {
	switch pr.AuthStyle {
	case AuthStylePrivateKeyJWT:
		if pr.ClientSecret != "" {
			p.add(field+".ClientSecret", " is set, but AuthStyle is private_key_jwt: the client authenticates with ClientKey only; remove the secret")
		}
		if pr.ClientKey == "" {
			p.add(field+".ClientKey", " is empty, but AuthStyle is private_key_jwt: give the PEM private key whose public half the provider has registered (or fetches from <base>/jwks)")
		}
		return oidc.AuthStylePrivateKeyJWT, true
	case AuthStyleSecretJWT:
		if pr.ClientSecret == "" {
			p.add(field+".AuthStyle", " is client_secret_jwt, but ClientSecret is empty: set the secret")
		}
		return oidc.AuthStyleSecretJWT, true
	}
	return 0, false
}

// resolveClientAuth checks the private_key_jwt key and the PAR mode.
func (pr Provider) resolveClientAuth(field string, np *nextauth.Provider, p *problems) {
	np.DPoP = pr.DPoP
	switch pr.ClientAssertionAudience {
	case "", "issuer":
	case "token_endpoint":
		np.AssertionAudienceToken = true
	default:
		p.add(field+".ClientAssertionAudience", " %q: use \"issuer\" (default) or \"token_endpoint\"", pr.ClientAssertionAudience)
	}
	switch pr.PAR {
	case PARAuto:
		np.PAR = oidc.PARAuto
	case PARAlways:
		np.PAR = oidc.PARAlways
	case PARNever:
		np.PAR = oidc.PARNever
	default:
		p.add(field+".PAR", " %q: use PARAuto (\"\"), PARAlways or PARNever", pr.PAR)
	}
	if pr.ClientKey == "" {
		if pr.ClientKeyID != "" {
			p.add(field+".ClientKeyID", " is set without ClientKey: set the key too")
		}
		return
	}
	if pr.AuthStyle != AuthStylePrivateKeyJWT {
		p.add(field+".ClientKey", " is set, but AuthStyle is %q: set AuthStylePrivateKeyJWT to use it", pr.AuthStyle)
		return
	}
	keys, err := oidc.ParseClientKeys([]byte(pr.ClientKey), pr.ClientKeyID)
	if err != nil {
		p.add(field+".ClientKey", " %v: give a PEM RSA (2048 bits or more) or EC private key", err)
		return
	}
	np.ClientKeys = keys
}
