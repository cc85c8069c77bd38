package nextauth

import (
	"context"

	"github.com/authbff/authbff/internal/oidc"
)

// newDPoPKey makes a new session's DPoP key when the provider binds
// tokens (RFC 9449) and returns ctx carrying it (the code exchange's
// proofs) and its encoding for the session record; ctx and "" otherwise.
func newDPoPKey(ctx context.Context, p *oidc.Provider) (context.Context, string, error) {
	if !p.DPoP() {
		return ctx, "", nil
	}
	k, err := oidc.NewDPoPKey()
	if err != nil {
		return ctx, "", err
	}
	enc, err := oidc.MarshalDPoPKey(k)
	if err != nil {
		return ctx, "", err
	}
	return oidc.WithDPoPKey(ctx, k), enc, nil
}
