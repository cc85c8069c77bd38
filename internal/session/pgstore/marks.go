package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/authbff/authbff/internal/session"
)

var _ session.Purger = (*Store)(nil)

// MarkUsed records the one-time value key until expires and reports whether
// a live marker already existed (seen): one INSERT ... ON CONFLICT that
// takes over the key's row only when it has expired, so of concurrent first
// uses in any process exactly one inserts. (ON CONFLICT DO NOTHING alone
// would let an expired marker nobody purged yet refuse a fresh use.)
func (s *Store) MarkUsed(ctx context.Context, key string, expires time.Time) (bool, error) {
	if key == "" {
		return false, errors.New("pgstore: mark used: empty key")
	}
	ctx, cancel, err := s.begin(ctx, "mark used")
	if err != nil {
		return false, err
	}
	defer cancel()
	now := time.Now()
	if !expires.After(now) {
		var seen bool
		err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+s.t.markers+" WHERE key = $1 AND expires > $2)", key, now).Scan(&seen)
		if err != nil {
			return false, unavailable("mark used", err)
		}
		return seen, nil
	}
	var inserted bool
	err = s.pool.QueryRow(ctx, `WITH w AS (
		INSERT INTO `+s.t.markers+` AS m (key, expires) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET expires = EXCLUDED.expires WHERE m.expires <= $3
		RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM w)`, key, expires, now).Scan(&inserted)
	if err != nil {
		return false, unavailable("mark used", err)
	}
	return !inserted, nil
}

// UnmarkUsed removes the marker key; a missing one is not an error.
func (s *Store) UnmarkUsed(ctx context.Context, key string) error {
	ctx, cancel, err := s.begin(ctx, "unmark used")
	if err != nil {
		return err
	}
	defer cancel()
	if _, err := s.pool.Exec(ctx, "DELETE FROM "+s.t.markers+" WHERE key = $1", key); err != nil {
		return unavailable("unmark used", err)
	}
	return nil
}

// purgeBatch bounds one DELETE of the purge, so that a large backlog is
// removed in short statements rather than one long lock-holding one.
const purgeBatch = 5000

// DeleteExpired removes every record and marker whose expiry is not after
// now and every tombstone whose end is not after now, in batches, and
// returns how many records (not tombstones) it removed.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	if s.closed.Load() {
		return 0, unavailable("delete expired", errClosed)
	}
	octx, cancel := s.opCtx(ctx)
	err := s.ensureSchema(octx)
	cancel()
	if err != nil {
		return 0, unavailable("delete expired", err)
	}
	return s.deleteExpired(ctx, now)
}

func (s *Store) deleteExpired(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for _, q := range []struct {
		sql   string
		count bool
	}{
		{`WITH d AS (DELETE FROM {sessions} WHERE id IN (
			SELECT id FROM {sessions} WHERE expires <= $1 LIMIT $2) RETURNING ended)
		SELECT count(*), count(*) FILTER (WHERE NOT ended) FROM d`, true},
		{`WITH d AS (DELETE FROM {markers} WHERE key IN (
			SELECT key FROM {markers} WHERE expires <= $1 LIMIT $2) RETURNING 1)
		SELECT count(*), 0 FROM d`, false},
		{`WITH d AS (DELETE FROM {locks} WHERE name IN (
			SELECT name FROM {locks} WHERE expires <= $1 LIMIT $2) RETURNING 1)
		SELECT count(*), 0 FROM d`, false},
	} {
		for {
			octx, cancel := s.opCtx(ctx)
			var n, recs int
			err := s.pool.QueryRow(octx, s.t.expand(q.sql), now, purgeBatch).Scan(&n, &recs)
			cancel()
			if err != nil {
				return total, unavailable("delete expired", err)
			}
			total += recs
			if n < purgeBatch {
				break
			}
		}
	}
	return total, nil
}

// purgeLoop deletes expired rows every `every` until Close, on one
// instance at a time: the first to take the purge's advisory lock (held by
// the session of one pooled connection while it sweeps) does it, the
// others skip that round.
func (s *Store) purgeLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.bg.Done():
			return
		case <-t.C:
		}
		if err := s.purgeOnce(s.bg); err != nil && s.bg.Err() == nil {
			s.log.Warn("pgstore: purge expired sessions", "err", err)
		}
	}
}

// purgeOnce runs one sweep unless another instance is running one.
func (s *Store) purgeOnce(ctx context.Context) error {
	octx, cancel := s.opCtx(ctx)
	defer cancel()
	if err := s.ensureSchema(octx); err != nil {
		return err
	}
	conn, err := s.pool.Acquire(octx)
	if err != nil {
		return err
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(octx, "SELECT pg_try_advisory_lock($1)", s.t.purgeKey).Scan(&got); err != nil {
		return err
	}
	if !got {
		return nil
	}
	defer func() {
		uctx, cancel := s.opCtx(context.Background())
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", s.t.purgeKey); err != nil {
			conn.Conn().Close(uctx) // the lock ends with the session
		}
	}()
	n, err := s.deleteExpired(ctx, time.Now())
	if n > 0 {
		s.log.Debug("pgstore: purged expired sessions", "records", n)
	}
	return err
}

// Count returns the number of live sessions (for the
// authbff_sessions_active gauge): an index-only count over the live rows
// with a UserKey.
func (s *Store) Count(ctx context.Context) (int, error) {
	ctx, cancel, err := s.begin(ctx, "count")
	if err != nil {
		return 0, err
	}
	defer cancel()
	var n int
	err = s.pool.QueryRow(ctx, "SELECT count(*) FROM "+s.t.sessions+" WHERE NOT ended AND user_key <> ''::bytea AND expires > $1", time.Now()).Scan(&n)
	if err != nil {
		return 0, unavailable("count", err)
	}
	return n, nil
}
