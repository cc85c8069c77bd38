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

// Get returns the record with id, a fresh copy. A missing or expired id gives
// an error wrapping session.ErrNotFound; a Redis failure or an undecodable
// value gives one wrapping session.ErrUnavailable. One GET.
func (s *Store) Get(ctx context.Context, id string) (*session.Record, error) {
	if err := s.checkOpen("get"); err != nil {
		return nil, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	b, err := s.client.Get(ctx, s.sessionKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
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

// Save creates or replaces the record rec.ID, expiring at rec.Expires, and
// indexes it under rec.UserKey (when set) and rec.SIDKey() (when rec has a
// SID) in one pipelined round trip. A record
// whose Expires is not after now is deleted instead. rec is not retained.
func (s *Store) Save(ctx context.Context, rec *session.Record) error {
	if err := s.checkOpen("save"); err != nil {
		return err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	if rec == nil || rec.ID == "" {
		return errors.New("redisstore: save: record without an ID")
	}
	now := time.Now()
	if !rec.Expires.After(now) {
		return s.Delete(ctx, rec.ID)
	}
	b, err := encode(rec)
	if err != nil {
		return err
	}
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Do(ctx, "SET", s.sessionKey(rec.ID), b, "PXAT", rec.Expires.UnixMilli())
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
		return unavailable("save", err)
	}
	return nil
}

// Delete removes the record id and its index entries. A missing id is not an
// error. GETDEL learns the user and sid keys in the same command that
// deletes. Before removing the index entries it announces the end to every
// watching Store and waits until none of their caches can serve the session
// any more (see feed.go): normally one round trip, at most FeedLease more
// than the op timeout.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := s.checkOpen("delete"); err != nil {
		return err
	}
	octx, cancel := s.opCtx(ctx)
	defer cancel()
	b, err := s.client.GetDel(octx, s.sessionKey(id)).Bytes()
	if err != nil && !errors.Is(err, redis.Nil) {
		return unavailable("delete", err)
	}
	// Announced even when the record was already gone: a concurrent Delete
	// of it may not have returned yet, and this one must not return first.
	if err := s.announceEnd(ctx, id); err != nil {
		return unavailable("delete: announce", err)
	}
	if b == nil {
		return nil
	}
	rec, err := decode(b)
	if err != nil {
		// The record is gone; ListByUser drops its dangling index entry later.
		s.log.WarnContext(ctx, "redisstore: deleted an undecodable record", "id", shortID(id), "err", err)
		return nil
	}
	var idx []string
	if rec.UserKey != "" {
		idx = append(idx, s.indexKey(rec.UserKey))
	}
	if k := rec.SIDKey(); k != "" {
		idx = append(idx, s.sidIndexKey(k))
	}
	if len(idx) == 0 {
		return nil
	}
	_, err = s.client.Pipelined(octx, func(p redis.Pipeliner) error {
		for _, k := range idx {
			p.ZRem(octx, k, id)
		}
		return nil
	})
	if err != nil {
		return unavailable("delete index entry", err)
	}
	return nil
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
		if errors.Is(err, redis.Nil) {
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
