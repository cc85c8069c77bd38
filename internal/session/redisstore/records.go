package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authbff/authbff/internal/session"
)

// indexAdd adds a record to a user's index, drops members that expired by
// ARGV[3], and makes the index expire with its longest-lived member. One key,
// so it runs on Cluster too.
//
// KEYS[1] index key; ARGV[1] expiry ms; ARGV[2] record id; ARGV[3] now ms.
var indexAdd = redis.NewScript(`
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] then
  redis.call('PEXPIREAT', KEYS[1], string.format('%d', tonumber(top[2])))
end
return 1
`)

// Get returns the record with id, a fresh copy. A missing, expired or ended id gives
// an error wrapping session.ErrNotFound; a Redis failure or an undecodable
// value gives one wrapping session.ErrUnavailable. One GET.
func (s *Store) Get(ctx context.Context, id string) (*session.Record, error) {
	if err := s.checkOpen("get"); err != nil {
		return nil, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	b, err := s.client.Get(ctx, s.sessionKey(id)).Bytes()
	if errors.Is(err, redis.Nil) || isTombstone(b) {
		return nil, fmt.Errorf("redisstore: get: %w", session.ErrNotFound)
	}
	if err != nil {
		return nil, unavailable("get", err)
	}
	rec, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", session.ErrUnavailable, err)
	}
	// Redis expires keys by its own clock; ours decides what is live.
	if !rec.Expires.After(time.Now()) {
		return nil, fmt.Errorf("redisstore: get: %w", session.ErrNotFound)
	}
	return rec, nil
}

// Create stores rec, a new record expiring at rec.Expires, unless its id
// holds a live record or a tombstone (session.ErrConflict, nothing
// written): one script on the record's key (see scripts.go), then one
// pipeline that indexes it under rec.UserKey and rec.SIDKey() and
// announces it on <prefix>changes. A record whose Expires is not after now
// is not stored. rec is not retained.
func (s *Store) Create(ctx context.Context, rec *session.Record) error {
	if err := s.checkOpen("create"); err != nil {
		return err
	}
	if rec == nil || rec.ID == "" {
		return errors.New("redisstore: create: record without an ID")
	}
	b, err := encode(rec)
	if err != nil {
		return err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	now := time.Now()
	n, err := createScript.Run(ctx, s.client, []string{s.sessionKey(rec.ID)}, b, pxat(rec, now), ms(now)).Int()
	if err != nil {
		return unavailable("create", err)
	}
	switch n {
	case 0:
		return fmt.Errorf("redisstore: create: id taken: %w", session.ErrConflict)
	case 2:
		return nil
	}
	return s.indexWritten(ctx, "create", rec, now)
}

// Update replaces the live record rec.ID, in one script on its key, only
// while its stored Version is version: a record that is gone (missing,
// expired, ended) or an rec.Expires not after now is session.ErrNotFound,
// another version session.ErrConflict, and nothing is written. Then, like
// Create, it indexes rec under its (possibly new) UserKey and SIDKey (list
// drops the entries the record left) and announces the change, so that
// every watching instance drops its cached copy.
func (s *Store) Update(ctx context.Context, rec *session.Record, version int64) error {
	if err := s.checkOpen("update"); err != nil {
		return err
	}
	if rec == nil || rec.ID == "" {
		return errors.New("redisstore: update: record without an ID")
	}
	b, err := encode(rec)
	if err != nil {
		return err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	now := time.Now()
	vb, vj := versionArgs(version)
	n, err := updateScript.Run(ctx, s.client, []string{s.sessionKey(rec.ID)}, b, pxat(rec, now), ms(now), vb, vj).Int()
	if err != nil {
		return unavailable("update", err)
	}
	switch n {
	case 0:
		return fmt.Errorf("redisstore: update: %w", session.ErrNotFound)
	case -1:
		return fmt.Errorf("redisstore: update: not at version %d: %w", version, session.ErrConflict)
	}
	return s.indexWritten(ctx, "update", rec, now)
}

// pxat is the PXAT argument of a write of rec: its expiry in unix ms, or
// "0" (store nothing) when it is not after now.
func pxat(rec *session.Record, now time.Time) string {
	if !rec.Expires.After(now) {
		return "0"
	}
	return ms(rec.Expires)
}

// indexWritten indexes rec, just written, and announces the write.
func (s *Store) indexWritten(ctx context.Context, op string, rec *session.Record, now time.Time) error {
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		if rec.UserKey != "" {
			indexAdd.Eval(ctx, p, []string{s.indexKey(rec.UserKey)}, ms(rec.Expires), rec.ID, ms(now))
		}
		if k := rec.SIDKey(); k != "" {
			indexAdd.Eval(ctx, p, []string{s.sidIndexKey(k)}, ms(rec.Expires), rec.ID, ms(now))
		}
		p.Publish(ctx, s.changesChannel(), rec.ID)
		return nil
	})
	if err != nil {
		return unavailable(op+": index", err)
	}
	return nil
}

// Delete ends the record id: one script on its key replaces a live record
// by a tombstone that refuses every Create and Update of id until `until`
// or the record's expiry, whichever is later, and returns the record as it
// was. Before removing its index entries, Delete announces the end to
// every watching Store and waits until none of their caches can serve the
// session any more (see feed.go): normally one round trip, at most about
// FeedLease more than the op timeout. Without a live record it returns
// nil, nil and writes nothing (but still announces: a concurrent Delete of
// the id may not have returned yet, and this one must not return first).
func (s *Store) Delete(ctx context.Context, id string, until time.Time) (*session.Record, error) {
	if err := s.checkOpen("delete"); err != nil {
		return nil, err
	}
	octx, cancel := s.opCtx(ctx)
	defer cancel()
	now := time.Now()
	v, err := deleteScript.Run(octx, s.client, []string{s.sessionKey(id)}, ms(until), ms(now)).Text()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable("delete", err)
	}
	var b []byte
	if err == nil {
		b = []byte(v)
	}
	if err := s.announceEnd(ctx, id); err != nil {
		return nil, unavailable("delete: announce", err)
	}
	if b == nil {
		return nil, nil
	}
	rec, err := decode(b)
	if err != nil {
		// The record is ended; list drops its dangling index entries later.
		s.log.WarnContext(ctx, "redisstore: ended an undecodable record", "id", shortID(id), "err", err)
		return nil, nil
	}
	rec.ID = id
	var idx []string
	if rec.UserKey != "" {
		idx = append(idx, s.indexKey(rec.UserKey))
	}
	if k := rec.SIDKey(); k != "" {
		idx = append(idx, s.sidIndexKey(k))
	}
	if len(idx) == 0 {
		return rec, nil
	}
	_, err = s.client.Pipelined(octx, func(p redis.Pipeliner) error {
		for _, k := range idx {
			p.ZRem(octx, k, id)
		}
		return nil
	})
	if err != nil {
		// Ended all the same; list drops the entries later.
		s.log.WarnContext(ctx, "redisstore: remove an ended record's index entries", "id", shortID(id), "err", err)
	}
	return rec, nil
}

// ListByUser returns fresh copies of the live records indexed under userKey,
// in no particular order: one pipeline to prune and read the index, one to
// GET the records. Index entries whose record is gone are removed.
func (s *Store) ListByUser(ctx context.Context, userKey string) ([]*session.Record, error) {
	return s.list(ctx, s.indexKey(userKey), func(r *session.Record) bool { return r.UserKey == userKey })
}

// list returns the live records in the index idx for which match holds;
// entries whose record is gone or no longer matches are removed.
func (s *Store) list(ctx context.Context, idx string, match func(*session.Record) bool) ([]*session.Record, error) {
	if err := s.checkOpen("list"); err != nil {
		return nil, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	now := time.Now()
	var ids *redis.StringSliceCmd
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRemRangeByScore(ctx, idx, "-inf", ms(now))
		ids = p.ZRange(ctx, idx, 0, -1)
		return nil
	})
	if err != nil {
		return nil, unavailable("list index", err)
	}
	if len(ids.Val()) == 0 {
		return nil, nil
	}
	// A pipeline of GETs rather than MGET: on Cluster the keys span slots.
	gets := make([]*redis.StringCmd, len(ids.Val()))
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids.Val() {
			gets[i] = p.Get(ctx, s.sessionKey(id))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable("list records", err)
	}
	var recs []*session.Record
	var stale []any
	for i, id := range ids.Val() {
		b, err := gets[i].Bytes()
		if errors.Is(err, redis.Nil) || isTombstone(b) {
			stale = append(stale, id)
			continue
		}
		if err != nil {
			return nil, unavailable("list records", err)
		}
		rec, err := decode(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", session.ErrUnavailable, err)
		}
		if !match(rec) {
			// The record was re-saved under another user or sid.
			stale = append(stale, id)
			continue
		}
		if rec.Expires.After(now) {
			recs = append(recs, rec)
		}
	}
	if len(stale) > 0 {
		if err := s.client.ZRem(ctx, idx, stale...).Err(); err != nil {
			s.log.WarnContext(ctx, "redisstore: prune index", "stale", len(stale), "err", err)
		}
	}
	return recs, nil
}
