package oidc

import (
	"context"
	"fmt"
	"net/url"
)

// candidateIssuerKey carries the iss parameter of an authorization
// response (RFC 9207) from CheckAuthResponse to the issuer learner.
type candidateIssuerKey struct{}

// CheckAuthResponse is ValidateAuthResponse against the provider's issuer.
// While a LearnIssuer provider has not learned its issuer yet, an iss
// parameter in the response (Cognito sends one) is taken as the candidate
// issuer under the same shape rules as a learned ID token iss
// (learner.accept); the returned context, passed to Exchange, then makes
// the ID token that teaches the issuer name exactly that candidate. The
// issuer is pinned only by that verified token, as before.
func (p *Provider) CheckAuthResponse(ctx context.Context, q url.Values) (context.Context, string, string, error) {
	iss := p.issuer()
	if v, ok := q["iss"]; ok && len(v) == 1 && iss == "" && p.learn != nil {
		if err := p.learn.accept(v[0]); err != nil {
			return ctx, "", "", fmt.Errorf("%w: iss parameter: %w", ErrInvalidAuthResponse, err)
		}
		iss = v[0]
		ctx = context.WithValue(ctx, candidateIssuerKey{}, iss)
	}
	code, state, err := ValidateAuthResponse(q, iss)
	return ctx, code, state, err
}

// checkCandidate refuses a learned token whose iss is not the
// authorization response's iss parameter, when there was one.
func checkCandidate(ctx context.Context, iss string) error {
	if want, ok := ctx.Value(candidateIssuerKey{}).(string); ok && iss != want {
		return invalid("iss %q is not the authorization response's iss parameter %q", LogText(iss), LogText(want))
	}
	return nil
}
