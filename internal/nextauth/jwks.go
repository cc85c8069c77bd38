package nextauth

import (
	"encoding/json"

	"github.com/authbff/authbff/internal/oidc"
)

// JWKS is GET <base>/jwks: the public keys of every provider's
// private_key_jwt client keys, one JWK Set (register <base>/jwks as the
// client's jwks_uri). ok is false when no provider has a key.
func (c *Core) JWKS() (set []byte, ok bool) {
	var keys []oidc.ClientKey
	seen := map[string]bool{}
	for _, id := range c.order {
		for _, k := range c.providers[id].client.ClientKeys() {
			if !seen[k.KeyID] {
				seen[k.KeyID] = true
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil, false
	}
	b, err := oidc.PublicJWKS(keys)
	if err != nil {
		c.log.Error("jwks: cannot encode the client keys", "err", err)
		return nil, false
	}
	return json.RawMessage(b), true
}
