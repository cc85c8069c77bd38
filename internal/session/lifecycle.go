package session

import (
	"context"
	"errors"
	"sort"
	"time"
)

// expiry is the Expires of a session created at created and active at now:
// MaxAge after now, but never after created + AbsoluteLifetime.
func (m *Manager) expiry(created, now time.Time) time.Time {
	return m.clamp(created, now.Add(m.maxAge))
}

// clamp returns exp, or created + AbsoluteLifetime if that is sooner
// (records written before the limit existed may expire later).
func (m *Manager) clamp(created, exp time.Time) time.Time {
	if end := created.Add(m.absolute); end.Before(exp) {
		return end
	}
	return exp
}

// live reports whether r is still within its absolute lifetime at now.
func (m *Manager) live(r *Record, now time.Time) bool {
	return now.Before(r.Created.Add(m.absolute))
}

// endAged deletes a record found past its absolute lifetime. Best effort:
// it is not found either way, and the store purges it at its Expires.
func (m *Manager) endAged(ctx context.Context, id string) {
	if _, err := m.end(ctx, "session end aged", id, m.now()); err != nil {
		m.log.WarnContext(ctx, "session: delete a session past its absolute lifetime", "id_prefix", id[:8], "err", err)
	}
}

// trimUser ends the least recently active sessions of s's user beyond
// MaxPerUser, never s itself. Failures are logged: the new session stands.
func (m *Manager) trimUser(ctx context.Context, s *Session) {
	recs, err := m.store.ListByUser(ctx, s.UserKey)
	if err != nil {
		m.log.WarnContext(ctx, "session: per-user cap: list failed", "err", err)
		return
	}
	now := m.now()
	others := recs[:0]
	for _, r := range recs {
		if r.ID != s.ID && r.Expires.After(now) && m.live(r, now) {
			others = append(others, r)
		}
	}
	excess := len(others) - (m.maxPer - 1)
	if excess <= 0 {
		return
	}
	sort.Slice(others, func(i, j int) bool {
		a, b := others[i], others[j]
		if !a.LastSeen.Equal(b.LastSeen) {
			return a.LastSeen.Before(b.LastSeen)
		}
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		return a.ID < b.ID
	})
	n := 0
	for _, r := range others[:excess] {
		ended, err := m.end(ctx, "session per-user cap", r.ID, r.Created.Add(m.absolute))
		if err != nil {
			m.log.WarnContext(ctx, "session: per-user cap: delete failed", "ended", n, "err", err)
			return
		}
		if ended {
			n++
			if m.ended != nil { // the same user as s
				m.ended(ctx, Ended{ID: r.ID, Provider: s.Data.Provider, Subject: s.Data.Subject, Reason: "per_user_cap"})
			}
		}
	}
	m.log.InfoContext(ctx, "session: per-user cap reached; ended the least recently active sessions", "ended", n, "cap", m.maxPer)
}

// DeleteSID ends exactly the sessions made during one IdP session, sidKey
// being SIDKey(provider, sid) (an OIDC back-channel logout that names a sid),
// and returns how many it deleted. The user's other sessions, with another
// sid or none, stay. On a store fault it returns the count so far and an
// error wrapping ErrUnavailable.
func (m *Manager) DeleteSID(ctx context.Context, sidKey string) (int, error) {
	recs, err := m.store.ListBySID(ctx, sidKey)
	if err != nil {
		return 0, storeErr("session delete sid", err)
	}
	return m.deleteRecords(ctx, "session delete sid", recs)
}

// MarkUsed remembers a one-time value (a completed sign-in flow's state, a
// back-channel logout token's jti) under key until expires, in the store
// every instance shares, and reports whether it had been marked already (a
// replay). The check and the mark are one atomic store step. Markers are not
// sessions: they are never loaded, listed or counted. An empty key is an
// error; a store fault is an error wrapping ErrUnavailable (seen is then
// false and must not be taken as "first use").
func (m *Manager) MarkUsed(ctx context.Context, key string, expires time.Time) (seen bool, err error) {
	if key == "" {
		return false, errors.New("session mark used: empty key")
	}
	seen, err = m.store.MarkUsed(ctx, key, expires)
	if err != nil {
		return false, storeErr("session mark used", err)
	}
	return seen, nil
}

// UnmarkUsed forgets the marker key, e.g. so that an IdP's retry of a
// back-channel logout whose sessions could not be ended gets through. A
// missing marker is not an error; a store fault wraps ErrUnavailable.
func (m *Manager) UnmarkUsed(ctx context.Context, key string) error {
	if err := m.store.UnmarkUsed(ctx, key); err != nil {
		return storeErr("session unmark used", err)
	}
	return nil
}
