package pgstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authbff/authbff/internal/session"
)

var _ session.Locker = (*Store)(nil)

// Lock tries once to take the lock name for ttl, across every instance
// sharing the database: a lease row in <prefix>locks, taken by an INSERT
// that takes over only an expired lease (by the database's clock, so every
// instance agrees when it ends) and held with a random token. ok reports
// whether it was taken; when it is held, ok is false and err nil.
//
// It is a lease rather than a PostgreSQL advisory lock: an advisory lock
// lives as long as the connection holding it, which would pin a pooled
// connection for the whole refresh and end silently with it; a lease ends
// at its ttl whatever the holder does, and a holder that outlived it
// cannot release its successor's (the token), nor overwrite its work (the
// session's version check refuses the late write).
//
// unlock is never nil, may be called any number of times, and releases
// the lease only while this holder still owns it (trying for at most the
// op timeout even after ctx ended).
func (s *Store) Lock(ctx context.Context, name string, ttl time.Duration) (unlock func(), ok bool, err error) {
	noop := func() {}
	if name == "" || ttl < time.Millisecond {
		return noop, false, errors.New("pgstore: lock: need a name and a ttl of at least 1ms")
	}
	octx, cancel, err := s.begin(ctx, "lock")
	if err != nil {
		return noop, false, err
	}
	defer cancel()
	token := rand.Text()
	err = s.pool.QueryRow(octx, `INSERT INTO `+s.t.locks+` AS l (name, token, expires)
		VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
		ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token, expires = EXCLUDED.expires
		WHERE l.expires <= clock_timestamp()
		RETURNING true`, name, token, ttl.Milliseconds()).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return noop, false, nil
	}
	if err != nil {
		return noop, false, unavailable("lock", err)
	}
	var once sync.Once
	unlock = func() {
		once.Do(func() {
			uctx, cancel := s.opCtx(context.WithoutCancel(ctx))
			defer cancel()
			if _, err := s.pool.Exec(uctx, "DELETE FROM "+s.t.locks+" WHERE name = $1 AND token = $2", name, token); err != nil {
				s.log.WarnContext(uctx, "pgstore: unlock", "lock", name, "err", err) // it still ends at its ttl
			}
		})
	}
	return unlock, true, nil
}

// WaitUnlocked polls every poll (default 50ms when <= 0) until the lock
// name is free, then returns nil, without taking it. It returns ctx's
// error (wrapped) when ctx ends first, one wrapping session.ErrUnavailable
// when the database fails.
func (s *Store) WaitUnlocked(ctx context.Context, name string, poll time.Duration) error {
	if poll <= 0 {
		poll = 50 * time.Millisecond
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgstore: wait for lock %q: %w", name, ctx.Err())
		case <-t.C:
		}
		octx, cancel, err := s.begin(ctx, "wait for lock")
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("pgstore: wait for lock %q: %w", name, ctx.Err())
			}
			return err
		}
		var held bool
		err = s.pool.QueryRow(octx, "SELECT EXISTS (SELECT 1 FROM "+s.t.locks+" WHERE name = $1 AND expires > clock_timestamp())", name).Scan(&held)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("pgstore: wait for lock %q: %w", name, ctx.Err())
			}
			return unavailable("wait for lock", err)
		}
		if !held {
			return nil
		}
		t.Reset(poll)
	}
}
