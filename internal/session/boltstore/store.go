// Package boltstore is a persistent session.Store in one local file, built on
// the pure-Go embedded database go.etcd.io/bbolt. Sessions survive restarts;
// the file is locked, so only one process may use it at a time.
//
// Layout: bucket "sessions" maps id -> encoded record (session.MarshalRecord,
// internal/session/record_codec.go); bucket "users" holds keys userKey +
// "\x00" + id (empty values) to list a user's sessions; bucket "sids" holds
// keys Record.SIDKey() + "\x00" + id (empty values) to list the sessions of
// one IdP session; bucket "expiry" holds keys of the 8-byte big-endian
// Unix-nanosecond expiry + id (empty values), so purging reads only what is
// due. Ended sessions leave tombstones (see session.Store.Delete): bucket
// "ended" maps id -> the 8-byte end of its tombstone and bucket
// "ended-expiry" holds end + id, for the purge. One-time markers (MarkUsed)
// are apart from records: bucket "used" maps key -> its 8-byte expiry and
// bucket "used-expiry" holds expiry + key. Bucket "meta" records that the
// "sids" index covers every record (files from before it are indexed once on
// Open). Open creates any bucket a file from an older version lacks; nothing
// else changes in it.
//
// Every write is one bolt write transaction (bolt runs them one at a time):
// Create checks that the id holds neither a live record nor a tombstone,
// Update compares the stored Version, Delete removes the record and writes
// its tombstone, each in the same transaction as its write.
package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/authbff/authbff/internal/session"
)

// DefaultCleanupInterval is how often expired records are purged by default.
const DefaultCleanupInterval = time.Minute

// lockTimeout bounds the wait for the file lock held by another process.
const lockTimeout = time.Second

var (
	bucketSessions = []byte("sessions")
	bucketUsers    = []byte("users")
	bucketExpiry   = []byte("expiry")
	bucketSIDs     = []byte("sids")
	bucketUsed     = []byte("used")
	bucketUsedExp  = []byte("used-expiry")
	bucketMeta     = []byte("meta")
	bucketEnded    = []byte("ended")
	bucketEndedExp = []byte("ended-expiry")
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// CleanupInterval is the period of the background purge; 0 means
	// DefaultCleanupInterval, a negative value disables it.
	CleanupInterval time.Duration
	// Now is the clock used for expiry; nil means time.Now.
	Now func() time.Time
	// Logger receives purge failures; nil discards.
	Logger *slog.Logger
}

// Store is a bbolt-backed session.Store. Open it with Open and release the
// file with Close.
type Store struct {
	db   *bolt.DB
	path string
	now  func() time.Time
	log  *slog.Logger

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var (
	_ session.Store  = (*Store)(nil)
	_ session.Purger = (*Store)(nil)
)

// Open opens (creating if needed) the session database at path: parent
// directories are made with mode 0700 and the file with 0600. If another
// process holds the file, Open fails after one second. It starts the
// background purge.
func Open(path string, o Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("boltstore open: create directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("boltstore open %s: file is locked by another process (is another authbff running with the same SESSION_STORE?): %w", path, err)
		}
		return nil, fmt.Errorf("boltstore open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketSessions, bucketUsers, bucketExpiry, bucketSIDs, bucketUsed, bucketUsedExp, bucketMeta, bucketEnded, bucketEndedExp} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("boltstore open %s: create buckets: %w", path, err)
	}
	if err := backfillSIDs(db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("boltstore open %s: index sessions by sid: %w", path, err)
	}
	s := &Store{
		db:   db,
		path: path,
		now:  o.Now,
		log:  o.Logger,
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	interval := o.CleanupInterval
	if interval == 0 {
		interval = DefaultCleanupInterval
	}
	if interval < 0 {
		close(s.done)
		return s, nil
	}
	go s.purge(interval)
	return s, nil
}

// purge deletes expired records every interval until Close.
func (s *Store) purge(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if n, err := s.DeleteExpired(context.Background(), s.now()); err != nil {
				s.log.Warn("boltstore: purge of expired sessions failed", "err", err)
			} else if n > 0 {
				s.log.Debug("boltstore: purged expired sessions", "count", n)
			}
		}
	}
}

// fault wraps a bolt error so it matches session.ErrUnavailable.
func fault(op string, err error) error {
	return fmt.Errorf("boltstore %s: %w: %w", op, session.ErrUnavailable, err)
}

// userIndexKey returns userKey + "\x00" + id (also the form of "sids" keys).
func userIndexKey(userKey, id string) []byte {
	k := make([]byte, 0, len(userKey)+1+len(id))
	k = append(k, userKey...)
	k = append(k, 0)
	return append(k, id...)
}

// expiryKey returns the 8-byte big-endian Unix-nanosecond expiry followed by id.
func expiryKey(expires time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(expires.UnixNano()))
	return append(k, id...)
}

// Get returns the live record id in one read transaction, or
// session.ErrNotFound.
func (s *Store) Get(_ context.Context, id string) (*session.Record, error) {
	now := s.now()
	var rec *session.Record
	err := s.db.View(func(tx *bolt.Tx) error {
		k := []byte(id)
		v := tx.Bucket(bucketSessions).Get(k)
		if v == nil || tombLive(tx, k, now) {
			return nil
		}
		r, err := session.UnmarshalRecord(id, v)
		if err != nil {
			return err
		}
		rec = r
		return nil
	})
	if err != nil {
		return nil, fault("get", err)
	}
	if rec == nil || !rec.Expires.After(now) {
		return nil, session.ErrNotFound
	}
	return rec, nil
}

// ListByUser returns the live records of userKey, in id order.
func (s *Store) ListByUser(_ context.Context, userKey string) ([]*session.Record, error) {
	return s.list("list by user", bucketUsers, userKey, func(r *session.Record) bool { return r.UserKey == userKey })
}

// ListBySID returns the live records whose SIDKey is sidKey, in id order.
func (s *Store) ListBySID(_ context.Context, sidKey string) ([]*session.Record, error) {
	if sidKey == "" {
		return nil, nil
	}
	return s.list("list by sid", bucketSIDs, sidKey, func(r *session.Record) bool { return r.SIDKey() == sidKey })
}

// list returns the live records indexed in bucket under key for which match
// holds (an index key may be a prefix of another one, or stale).
func (s *Store) list(op string, bucket []byte, key string, match func(*session.Record) bool) ([]*session.Record, error) {
	now := s.now()
	prefix := userIndexKey(key, "")
	var out []*session.Record
	err := s.db.View(func(tx *bolt.Tx) error {
		sessions := tx.Bucket(bucketSessions)
		c := tx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id := k[len(prefix):]
			v := sessions.Get(id)
			if v == nil || tombLive(tx, id, now) {
				continue
			}
			r, err := session.UnmarshalRecord(string(id), v)
			if err != nil {
				return err
			}
			if match(r) && r.Expires.After(now) {
				out = append(out, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fault(op, err)
	}
	return out, nil
}

// purgeBatch bounds the records deleted per write transaction.
const purgeBatch = 1000

// DeleteExpired removes every record, marker and tombstone whose expiry (or
// end) is not after now, reading only the due part of the expiry indexes,
// and returns how many records it removed (session.Purger). The background
// purge calls it. A fault wraps session.ErrUnavailable.
func (s *Store) DeleteExpired(_ context.Context, now time.Time) (int, error) {
	limit := uint64(now.UnixNano())
	if _, err := s.deleteDue(bucketUsed, bucketUsedExp, limit); err != nil {
		return 0, fault("delete expired markers", err)
	}
	if _, err := s.deleteDue(bucketEnded, bucketEndedExp, limit); err != nil {
		return 0, fault("delete past tombstones", err)
	}
	total := 0
	for {
		entries, deleted, err := s.deleteExpiredBatch(limit)
		total += deleted
		if err != nil {
			return total, fault("delete expired", err)
		}
		if entries < purgeBatch {
			return total, nil
		}
	}
}

// deleteExpiredBatch drops up to purgeBatch due expiry entries and their
// records; it returns how many entries and records it removed.
func (s *Store) deleteExpiredBatch(limit uint64) (entries, deleted int, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		entries, deleted = 0, 0
		var due [][]byte
		c := tx.Bucket(bucketExpiry).Cursor()
		for k, _ := c.First(); k != nil && len(due) < purgeBatch; k, _ = c.Next() {
			if len(k) < 8 || binary.BigEndian.Uint64(k[:8]) > limit {
				break
			}
			due = append(due, bytes.Clone(k))
		}
		sessions := tx.Bucket(bucketSessions)
		for _, k := range due {
			id := string(k[8:])
			if v := sessions.Get([]byte(id)); v != nil {
				if _, exp, err := session.UnmarshalRecordMeta(v); err != nil || uint64(exp.UnixNano()) <= limit {
					if err := deleteTx(tx, []byte(id)); err != nil {
						return err
					}
					deleted++
				}
			}
			// The entry may be stale (record replaced or gone): drop it anyway.
			if err := tx.Bucket(bucketExpiry).Delete(k); err != nil {
				return err
			}
			entries++
		}
		return nil
	})
	return entries, deleted, err
}

// Ping reports whether the database is open and readable.
func (s *Store) Ping(context.Context) error {
	if err := s.db.View(func(*bolt.Tx) error { return nil }); err != nil {
		return fault("ping", err)
	}
	return nil
}

// Close stops the background purge, waits for it and closes the file. Later
// operations return errors wrapping session.ErrUnavailable. Close is
// idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		select {
		case <-s.done: // purge disabled
		default:
			close(s.stop)
			<-s.done
		}
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("boltstore close: %w", err)
		}
	})
	return s.closeErr
}

// Count returns how many session records the file holds (expired ones not
// yet purged included): bbolt keeps the key count of a bucket, so this is
// cheap enough for a metrics scrape.
func (s *Store) Count(context.Context) (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketSessions); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		return 0, fault("count", err)
	}
	return n, nil
}
