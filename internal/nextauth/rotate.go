package nextauth

import (
	"fmt"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/oidc"
)

// SetSecrets replaces the server secrets (current first, as
// Options.Secrets) of everything the core seals: flow cookies, CSRF
// tokens, and through the Manager the session records. Each sealing or
// opening from then on uses the new ones; one under way finishes with the
// ones it read. On an error nothing changes.
func (c *Core) SetSecrets(secrets [][]byte) error {
	sealer, err := auth.NewSealer(secrets, nil)
	if err != nil {
		return fmt.Errorf("nextauth: set secrets: %w", err)
	}
	if err := c.sessions.SetSecrets(secrets); err != nil {
		return fmt.Errorf("nextauth: set secrets: %w", err)
	}
	c.sealer.Store(sealer)
	c.csrf.Store(auth.NewCSRF(secrets))
	return nil
}

// SetClientCredentials replaces the client secret or the private_key_jwt
// keys of provider id (see oidc.Provider.SetCredentials): the next call to
// its token endpoint uses them. On an error nothing changes.
func (c *Core) SetClientCredentials(id, secret string, keys []oidc.ClientKey) error {
	p, ok := c.providers[id]
	if !ok {
		return fmt.Errorf("nextauth: set client credentials: no provider %q", id)
	}
	if err := p.client.SetCredentials(secret, keys); err != nil {
		return fmt.Errorf("nextauth: provider %s: %w", id, err)
	}
	return nil
}

// CheckClientCredentials reports why SetClientCredentials would refuse,
// changing nothing.
func (c *Core) CheckClientCredentials(id, secret string, keys []oidc.ClientKey) error {
	p, ok := c.providers[id]
	if !ok {
		return fmt.Errorf("nextauth: no provider %q", id)
	}
	return p.client.CheckCredentials(secret, keys)
}
