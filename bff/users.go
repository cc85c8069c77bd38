package bff

import (
	"context"
	"fmt"

	"github.com/authbff/authbff/internal/session"
)

// EndUserSessions ends every session of one user (provider id and the ID
// token's sub) in s, as `authbff sessions revoke` does, and returns how many
// ended. The user's browsers are signed out at their next request.
func EndUserSessions(ctx context.Context, s Store, provider, sub string) (int, error) {
	recs, err := s.ListByUser(ctx, session.UserKey(provider, sub))
	if err != nil {
		return 0, fmt.Errorf("bff: list sessions: %w", err)
	}
	n := 0
	for _, r := range recs {
		ended, err := s.Delete(ctx, r.ID, r.Expires)
		if err != nil {
			return n, fmt.Errorf("bff: delete session: %w", err)
		}
		if ended != nil {
			n++
		}
	}
	return n, nil
}
