package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authbff/authbff/internal/session"
)

func (s *Store) sidIndexKey(sidKey string) string { return s.prefix + "i:" + sidKey }
func (s *Store) markKey(key string) string        { return s.prefix + "m:" + key }

// ListBySID returns fresh copies of the live records whose SIDKey is
// sidKey, in no particular order, read like ListByUser from the index
// <prefix>i:<sidKey>. Records written by a version without that index are
// in it from their next Update (the daily expiry slide at the latest for a
// session in use).
func (s *Store) ListBySID(ctx context.Context, sidKey string) ([]*session.Record, error) {
	if sidKey == "" {
		return nil, s.checkOpen("list by sid")
	}
	return s.list(ctx, s.sidIndexKey(sidKey), func(r *session.Record) bool { return r.SIDKey() == sidKey })
}

// MarkUsed records key until expires with one SET NX PXAT, so of concurrent
// first uses on every instance exactly one sees false. The marker expires by
// Redis's clock.
func (s *Store) MarkUsed(ctx context.Context, key string, expires time.Time) (bool, error) {
	if err := s.checkOpen("mark used"); err != nil {
		return false, err
	}
	if key == "" {
		return false, errors.New("redisstore: mark used: empty marker key")
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	if !expires.After(time.Now()) {
		n, err := s.client.Exists(ctx, s.markKey(key)).Result()
		if err != nil {
			return false, unavailable("mark used", err)
		}
		return n > 0, nil
	}
	err := s.client.Do(ctx, "SET", s.markKey(key), "1", "NX", "PXAT", expires.UnixMilli()).Err()
	if errors.Is(err, redis.Nil) {
		return true, nil
	}
	if err != nil {
		return false, unavailable("mark used", err)
	}
	return false, nil
}

// UnmarkUsed deletes the marker key; a missing marker is not an error.
func (s *Store) UnmarkUsed(ctx context.Context, key string) error {
	if err := s.checkOpen("unmark used"); err != nil {
		return err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	if err := s.client.Del(ctx, s.markKey(key)).Err(); err != nil {
		return unavailable("unmark used", err)
	}
	return nil
}
