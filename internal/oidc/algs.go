package oidc

import (
	"context"
	"fmt"
	"slices"
)

// ID token signature algorithms. Which ones a Provider accepts:
//   - Config.AllowedAlgs when set (New refuses none and HS*);
//   - RS256 for Cognito, which signs with nothing else;
//   - else the asymmetric algorithms discovery lists in
//     id_token_signing_alg_values_supported (RS/PS/ES 256-512, EdDSA),
//     never none or HS* even when listed; RS256 when it lists none of them
//     (OpenID Discovery makes RS256 mandatory to support).

// asymmetricAlgs are the JWS algorithms an ID token may be signed with, in
// the order they are reported.
var asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// supportedAlg reports whether alg is an asymmetric JWS algorithm jwx verifies.
func supportedAlg(alg string) bool { return slices.Contains(asymmetricAlgs, alg) }

// IDTokenAlgs returns the algorithms the provider's ID tokens and logout
// tokens may be signed with (see AllowedAlgs in Config), discovering the
// provider when the list depends on it. Errors wrap ErrDiscovery.
func (p *Provider) IDTokenAlgs(ctx context.Context) ([]string, error) {
	m, err := p.discover(ctx)
	if err != nil {
		return nil, fmt.Errorf("oidc: id token algs: %w", err)
	}
	return p.acceptedAlgs(m), nil
}

// acceptedAlgs is the list IDTokenAlgs describes, for discovery document m.
func (p *Provider) acceptedAlgs(m *metadata) []string {
	if len(p.algs) > 0 {
		return slices.Clone(p.algs)
	}
	if p.cfg.Cognito {
		return []string{"RS256"}
	}
	var out []string
	for _, a := range asymmetricAlgs {
		if slices.Contains(m.SigningAlgs, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		out = []string{"RS256"}
	}
	return out
}

// algAllowed is acceptedAlgs(m) contains alg, without allocating: it runs
// for every token verified.
func (p *Provider) algAllowed(m *metadata, alg string) bool {
	switch {
	case !supportedAlg(alg):
		return false
	case len(p.algs) > 0:
		return slices.Contains(p.algs, alg)
	case p.cfg.Cognito:
		return alg == "RS256"
	case slices.Contains(m.SigningAlgs, alg):
		return true
	}
	// Discovery lists no usable algorithm: only RS256 is assumed.
	return alg == "RS256" && !slices.ContainsFunc(m.SigningAlgs, supportedAlg)
}
