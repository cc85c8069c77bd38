package main

import (
	"context"

	"github.com/authbff/authbff/internal/session"
)

// refreshIfDue returns the session with a usable access token, refreshing it
// at the IdP when it is within the refresh margin of expiry.
func (a *App) refreshIfDue(ctx context.Context, token string, s *session.Session) (*session.Session, error) {
	return s, nil
}
