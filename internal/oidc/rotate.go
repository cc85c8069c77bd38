package oidc

import "errors"

// credentials are a client's secret and private_key_jwt keys (the first
// signs, all are published): what SetCredentials replaces at run time.
type credentials struct {
	secret string
	keys   []ClientKey
}

// ClientKeys returns the private_key_jwt keys: the first signs the client
// assertions, every one is published (<base>/jwks). The slice must not be
// modified.
func (p *Provider) ClientKeys() []ClientKey { return p.creds.Load().keys }

// SetCredentials replaces the client secret or the private_key_jwt keys
// (secret rotation): the next token, revocation or PAR call uses them.
// The credentials must suit the client authentication style New chose
// (a secret for client_secret_post, _basic and _jwt; keys and no secret for
// private_key_jwt; nothing for a public client): the style itself cannot
// change without a new Provider. With private_key_jwt, the key that signed
// until now stays published after keys (unless keys holds its kid), so a
// provider that caches the client's JWKS accepts assertions either way
// until the next rotation. On an error (CheckCredentials's) nothing
// changes.
func (p *Provider) SetCredentials(secret string, keys []ClientKey) error {
	if err := p.CheckCredentials(secret, keys); err != nil {
		return err
	}
	next := &credentials{secret: secret, keys: keys}
	if old := p.creds.Load(); len(old.keys) > 0 && len(keys) > 0 {
		prev := old.keys[0]
		kept := false
		for _, k := range keys {
			kept = kept || k.KeyID == prev.KeyID
		}
		if !kept {
			next.keys = append(append([]ClientKey(nil), keys...), prev)
		}
	}
	p.creds.Store(next)
	return nil
}

// CheckCredentials reports why SetCredentials would refuse secret and
// keys, changing nothing.
func (p *Provider) CheckCredentials(secret string, keys []ClientKey) error {
	switch {
	case p.cfg.Apple != nil:
		return errors.New("oidc: set credentials: Sign in with Apple mints its client secret from its key")
	case p.style == AuthStylePrivateKeyJWT && len(keys) == 0:
		return errors.New("oidc: set credentials: private_key_jwt needs a client key")
	case p.style == AuthStylePrivateKeyJWT && secret != "":
		return errors.New("oidc: set credentials: private_key_jwt takes no client secret")
	case p.style == AuthStyleNone && (secret != "" || len(keys) > 0):
		return errors.New("oidc: set credentials: a public client has no credentials")
	case p.style != AuthStylePrivateKeyJWT && p.style != AuthStyleNone && secret == "":
		return errors.New("oidc: set credentials: auth style " + p.style.String() + " needs a client secret")
	case p.style != AuthStylePrivateKeyJWT && len(keys) > 0:
		return errors.New("oidc: set credentials: client keys need private_key_jwt")
	}
	return nil
}
