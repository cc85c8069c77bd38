package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authbff/authbff/internal/session"
)

const recordCols = "id, user_key, sid, created, last_seen, expires, user_agent, version, sealed, revoke"

// scanRecord reads the recordCols of one row.
func scanRecord(row pgx.Row) (*session.Record, error) {
	var r session.Record
	var created, lastSeen *time.Time
	var uk, sid, ua []byte
	if err := row.Scan(&r.ID, &uk, &sid, &created, &lastSeen, &r.Expires, &ua, &r.Version, &r.Sealed, &r.Revoke); err != nil {
		return nil, err
	}
	r.UserKey, r.SID, r.UserAgent = string(uk), string(sid), string(ua)
	if created != nil {
		r.Created = *created
	}
	if lastSeen != nil {
		r.LastSeen = *lastSeen
	}
	return &r, nil
}

// recordArgs are the values of recordCols for rec ($1..$10), then its
// SIDKey ($11).
func recordArgs(rec *session.Record) []any {
	ts := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t
	}
	return []any{rec.ID, []byte(rec.UserKey), []byte(rec.SID), ts(rec.Created), ts(rec.LastSeen), rec.Expires, []byte(rec.UserAgent),
		rec.Version, nonNil(rec.Sealed), rec.Revoke, []byte(rec.SIDKey())}
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Get returns the live record id, a fresh copy. A missing, expired or
// ended id gives an error wrapping session.ErrNotFound; a database failure
// one wrapping session.ErrUnavailable. One SELECT by primary key.
func (s *Store) Get(ctx context.Context, id string) (*session.Record, error) {
	ctx, cancel, err := s.begin(ctx, "get")
	if err != nil {
		return nil, err
	}
	defer cancel()
	rec, err := scanRecord(s.pool.QueryRow(ctx, "SELECT "+recordCols+" FROM "+s.t.sessions+
		" WHERE id = $1 AND NOT ended AND expires > $2", id, time.Now()))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: get: %w", session.ErrNotFound)
	}
	if err != nil {
		return nil, unavailable("get", err)
	}
	return rec, nil
}

// Create stores rec unless its id holds a live record or a tombstone
// (session.ErrConflict, nothing written): one INSERT that takes over the
// id's row only when that has expired, and notifies the change in the same
// transaction. A record whose Expires is not after now is not stored.
func (s *Store) Create(ctx context.Context, rec *session.Record) error {
	if rec == nil || rec.ID == "" {
		return errors.New("pgstore: create: record without an ID")
	}
	now := time.Now()
	if !rec.Expires.After(now) {
		return nil
	}
	ctx, cancel, err := s.begin(ctx, "create")
	if err != nil {
		return err
	}
	defer cancel()
	args := append(recordArgs(rec), now, s.ch.changes())
	var ok bool
	err = s.pool.QueryRow(ctx, `WITH w AS (
		INSERT INTO `+s.t.sessions+` AS t (`+recordCols+`, sid_key, ended)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, false)
		ON CONFLICT (id) DO UPDATE SET user_key = EXCLUDED.user_key, sid = EXCLUDED.sid, sid_key = EXCLUDED.sid_key,
			created = EXCLUDED.created, last_seen = EXCLUDED.last_seen, expires = EXCLUDED.expires,
			user_agent = EXCLUDED.user_agent, version = EXCLUDED.version, sealed = EXCLUDED.sealed,
			revoke = EXCLUDED.revoke, ended = false
		WHERE t.expires <= $12
		RETURNING id)
	SELECT EXISTS (SELECT 1 FROM w, pg_notify($13, w.id))`, args...).Scan(&ok)
	if err != nil {
		return unavailable("create", err)
	}
	if !ok {
		return fmt.Errorf("pgstore: create: id taken: %w", session.ErrConflict)
	}
	return nil
}

// Update replaces the live record rec.ID only while its stored version is
// version: one statement locks the live row (SELECT ... FOR UPDATE, which
// under READ COMMITTED waits for a concurrent write and re-checks the row
// as written), updates it when its version matches, and notifies the
// change in the same transaction; of two updates from one version exactly
// one applies, and one racing a Delete sees the tombstone.
// A record that is gone, or an rec.Expires not after now, is
// session.ErrNotFound; another version session.ErrConflict; nothing is
// written in either case.
func (s *Store) Update(ctx context.Context, rec *session.Record, version int64) error {
	if rec == nil || rec.ID == "" {
		return errors.New("pgstore: update: record without an ID")
	}
	now := time.Now()
	ctx, cancel, err := s.begin(ctx, "update")
	if err != nil {
		return err
	}
	defer cancel()
	if !rec.Expires.After(now) {
		return fmt.Errorf("pgstore: update: expired: %w", session.ErrNotFound)
	}
	args := append(recordArgs(rec), now, s.ch.changes(), version)
	// found: the live row's version when the update did not apply.
	var applied bool
	var found *int64
	err = s.pool.QueryRow(ctx, `WITH cur AS (
		SELECT id, version FROM `+s.t.sessions+` WHERE id = $1 AND NOT ended AND expires > $12 FOR UPDATE),
	w AS (
		UPDATE `+s.t.sessions+` AS t SET user_key = $2, sid = $3, sid_key = $11, created = $4, last_seen = $5,
			expires = $6, user_agent = $7, version = $8, sealed = $9, revoke = $10
		FROM cur WHERE t.id = cur.id AND cur.version = $14
		RETURNING t.id)
	SELECT EXISTS (SELECT 1 FROM w, pg_notify($13, w.id)), (SELECT version FROM cur)`, args...).Scan(&applied, &found)
	if err != nil {
		return unavailable("update", err)
	}
	switch {
	case applied:
		return nil
	case found == nil:
		return fmt.Errorf("pgstore: update: %w", session.ErrNotFound)
	}
	return fmt.Errorf("pgstore: update: not at version %d: %w", version, session.ErrConflict)
}

// Delete ends the record id: one UPDATE turns the live row into a
// tombstone (no sealed data, no index keys) that lasts until `until` or the
// record's expiry, whichever is later, and returns the record as it was
// (locked by the sub-select, so of concurrent Deletes exactly one gets
// it); the end is notified on the feed in the same transaction, and Delete
// then waits until no watching instance can serve the session from its
// cache (feed.go). Without a live record it returns nil, nil and writes
// nothing (but still announces and waits: a concurrent Delete of the id may
// not have returned yet, and this one must not return first).
func (s *Store) Delete(ctx context.Context, id string, until time.Time) (*session.Record, error) {
	octx, cancel, err := s.begin(ctx, "delete")
	if err != nil {
		return nil, err
	}
	defer cancel()
	pending, err := s.startAnnounce(octx)
	if err != nil {
		return nil, unavailable("delete", err)
	}
	defer s.endAnnounce(pending)
	now := time.Now()
	br := s.pool.SendBatch(octx, s.feedBatch(false, `WITH old AS (
		SELECT `+recordCols+` FROM `+s.t.sessions+`
		WHERE id = $1 AND NOT ended AND expires > $2 FOR UPDATE),
	ended AS (
		UPDATE `+s.t.sessions+` AS t SET ended = true, expires = greatest(t.expires, $3), sealed = NULL, revoke = NULL,
			user_key = '', sid = '', sid_key = '', user_agent = ''
		FROM old WHERE t.id = old.id
		RETURNING t.id)
	SELECT 'r', `+recordCols+`, NULL::text, 0::bigint FROM old
	UNION ALL
	SELECT 'p', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, p.member,
		(extract(epoch FROM p.expires - clock_timestamp()) * 1000)::bigint
	FROM (SELECT pg_notify($4, $5)) n LEFT JOIN `+s.t.presence+` p ON p.expires > clock_timestamp()`,
		id, now, until, s.ch.ends(), s.endMessage(pending, id)))
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, unavailable("delete", err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, unavailable("delete", err)
	}
	var rec *session.Record
	need := map[string]time.Duration{}
	for rows.Next() {
		var r session.Record
		var created, lastSeen *time.Time
		var rid, member *string
		var uk, sid, ua []byte
		var exp *time.Time
		var ver, left *int64
		var kind string
		if err := rows.Scan(&kind, &rid, &uk, &sid, &created, &lastSeen, &exp, &ua, &ver, &r.Sealed, &r.Revoke, &member, &left); err != nil {
			rows.Close()
			return nil, unavailable("delete", err)
		}
		if kind == "p" {
			if member != nil && left != nil {
				need[*member] = time.Duration(*left) * time.Millisecond
			}
			continue
		}
		r.ID, r.UserKey, r.SID, r.UserAgent = deref(rid), string(uk), string(sid), string(ua)
		if created != nil {
			r.Created = *created
		}
		if lastSeen != nil {
			r.LastSeen = *lastSeen
		}
		if exp != nil {
			r.Expires = *exp
		}
		if ver != nil {
			r.Version = *ver
		}
		rec = &r
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable("delete", err)
	}
	if err := br.Close(); err != nil { // the commit
		return nil, unavailable("delete", err)
	}
	published := time.Now()
	if err := s.awaitAcks(ctx, pending, need, published); err != nil {
		return nil, unavailable("delete: announce", err)
	}
	return rec, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ListByUser returns fresh copies of the live records with that UserKey,
// in no particular order, through the partial index on user_key.
func (s *Store) ListByUser(ctx context.Context, userKey string) ([]*session.Record, error) {
	return s.list(ctx, "user_key", userKey)
}

// ListBySID returns fresh copies of the live records whose SIDKey() is
// sidKey, through the partial index on sid_key.
func (s *Store) ListBySID(ctx context.Context, sidKey string) ([]*session.Record, error) {
	if sidKey == "" {
		return nil, nil
	}
	return s.list(ctx, "sid_key", sidKey)
}

func (s *Store) list(ctx context.Context, col, key string) ([]*session.Record, error) {
	ctx, cancel, err := s.begin(ctx, "list")
	if err != nil {
		return nil, err
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, "SELECT "+recordCols+" FROM "+s.t.sessions+
		" WHERE "+col+" = $1 AND NOT ended AND expires > $2", []byte(key), time.Now())
	if err != nil {
		return nil, unavailable("list", err)
	}
	defer rows.Close()
	var recs []*session.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, unavailable("list", err)
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable("list", err)
	}
	return recs, nil
}
