package config

import "strings"

// clientAuth reads a generic provider's key-based client authentication
// and PAR mode (v is "AUTH_<ID>_"): AUTH_<ID>_CLIENT_KEY or _CLIENT_KEY_FILE
// (PEM; private_key_jwt only), _CLIENT_KEY_ID, _PAR=auto|always|never.
// The key is parsed by bff's validation.
func (l *loader) clientAuth(p *Provider, v string) {
	// AUTH_<ID>_CLIENT_KEY_FILE is read by env.get like every secret
	// variable's <NAME>_FILE (secretfiles.go).
	key := l.env.get(v + "CLIENT_KEY")
	// A key pasted into one line of a .env file keeps its line breaks as \n.
	p.ClientKey = strings.ReplaceAll(key, `\n`, "\n")
	p.ClientKeyID = l.env.get(v + "CLIENT_KEY_ID")
	switch p.AuthStyle {
	case AuthStylePrivateKeyJWT:
		if p.ClientSecret != "" {
			l.probs.add(v+"SECRET", "is set, but "+v+"AUTH_STYLE is private_key_jwt", "remove the secret: the client authenticates with its key only")
		}
		if p.ClientKey == "" && !l.anySet(v+"CLIENT_KEY", v+"CLIENT_KEY_FILE") {
			l.probs.add(v+"CLIENT_KEY_FILE", "is not set, but "+v+"AUTH_STYLE is private_key_jwt",
				"set it to the PEM private key whose public half the provider has registered (or reads from <NEXTAUTH_URL>/jwks)")
		}
	case AuthStyleSecretJWT:
		if p.ClientSecret == "" {
			l.probs.add(v+"AUTH_STYLE", "is client_secret_jwt, but "+v+"SECRET is not set", "set the client secret")
		}
	default:
		if p.ClientKey != "" {
			l.probs.add(v+"CLIENT_KEY", "is set, but "+v+"AUTH_STYLE is not private_key_jwt", "set "+v+"AUTH_STYLE=private_key_jwt")
		}
	}
	if s := l.env.get(v + "DPOP"); s != "" {
		b, err := parseBool(s)
		if err != nil {
			l.probs.add(v+"DPOP", err.Error(), "set it to 1 or 0")
		}
		p.DPoP = b
	}
	switch s := strings.ToLower(l.env.get(v + "CLIENT_ASSERTION_AUD")); s {
	case "", "issuer":
	case "token_endpoint":
		p.ClientAssertionAudience = s
	default:
		l.probs.add(v+"CLIENT_ASSERTION_AUD", "is not issuer or token_endpoint", "leave it unset (the issuer), or set token_endpoint for providers that want it (Microsoft Entra ID)")
	}
	switch s := strings.ToLower(l.env.get(v + "PAR")); s {
	case "", "auto":
	case "always", "never":
		p.PAR = s
	default:
		l.probs.add(v+"PAR", "is not auto, always or never", "set auto (push when the provider offers it), always or never")
	}
}
