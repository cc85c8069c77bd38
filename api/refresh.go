package main

import (
	"context"
	"time"

	"github.com/authbff/authbff/internal/refresh"
	"github.com/authbff/authbff/internal/session"
)

// newRefresher builds the token refresh coordinator. With the Redis store
// it also serialises refreshes across instances through a Redis lock; with
// memory or bolt (one process owns the data) the in-process flight is enough.
func (a *App) newRefresher() (*refresh.Coordinator, error) {
	var locker refresh.Locker
	if l, ok := a.store.(refresh.Locker); ok {
		locker = l
	}
	return refresh.New(refresh.Options{
		Sessions: a.sessions,
		Locker:   locker,
		Provider: a.refreshProvider,
		Margin:   a.cfg.RefreshMargin,
		Now:      func() time.Time { return a.now() },
		Logger:   a.log.With("component", "refresh"),
	})
}

// refreshProvider returns what refreshing a session of provider id needs.
func (a *App) refreshProvider(id string) (refresh.Provider, bool) {
	p, ok := a.providers[id]
	if !ok {
		return refresh.Provider{}, false
	}
	return refresh.Provider{Client: p.client, ClientID: p.cfg.ClientID, Issuer: p.client.Issuer()}, true
}

// refreshIfDue returns the session with a usable access token, refreshing it
// at the IdP when it is within the refresh margin of expiry (one refresh per
// session at a time, across instances). It returns nil, nil when the IdP
// refused the refresh and the session was ended: answer "no session" and
// clear the cookie. Errors wrap session.ErrUnavailable (answer 503, keep the
// cookie). After a transient IdP failure the session comes back with
// Data.RefreshError set and the refresh is retried later with back-off.
func (a *App) refreshIfDue(ctx context.Context, token string, s *session.Session) (*session.Session, error) {
	return a.refresher.IfDue(ctx, token, s)
}

// forceRefresh refreshes the session's tokens whatever their expiry, for an
// upstream that answered 401 to its access token. When another request has
// already replaced that access token (or it was refreshed moments ago) the
// stored session is returned instead. Results as for refreshIfDue.
func (a *App) forceRefresh(ctx context.Context, token string, s *session.Session) (*session.Session, error) {
	return a.refresher.Force(ctx, token, s)
}
