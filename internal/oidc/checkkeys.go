package oidc

import "context"

// CheckKeys fetches the provider's discovery document (unless cached) and
// its JWKS, and returns how many keys the JWKS holds: what a start-up check
// or doctor asks before the first sign-in needs them. Errors are those of
// Discover or of the JWKS fetch.
func (p *Provider) CheckKeys(ctx context.Context) (int, error) {
	if _, err := p.discover(ctx); err != nil {
		return 0, err
	}
	p.keys.mu.Lock()
	defer p.keys.mu.Unlock()
	if err := p.keys.fetch(ctx); err != nil {
		return 0, err
	}
	return p.keys.set.Len(), nil
}
