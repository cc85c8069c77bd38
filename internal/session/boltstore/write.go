package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/authbff/authbff/internal/session"
)

// errNoWrite, returned from a write transaction's function, rolls it back:
// bolt then writes (and syncs) nothing. The caller maps it to success.
var errNoWrite = errors.New("boltstore: nothing to write")

// write runs fn in one write transaction. session.ErrConflict and
// session.ErrNotFound from fn are returned as they are, errNoWrite as nil,
// anything else as a fault.
func (s *Store) write(op string, fn func(tx *bolt.Tx) error) error {
	err := s.db.Update(fn)
	switch {
	case err == nil, errors.Is(err, errNoWrite):
		return nil
	case errors.Is(err, session.ErrConflict), errors.Is(err, session.ErrNotFound):
		return fmt.Errorf("boltstore %s: %w", op, err)
	default:
		return fault(op, err)
	}
}

// Create stores rec unless its id holds a live record or a live tombstone
// (session.ErrConflict); a record whose Expires is not after now is not
// stored. The checks and the write are one transaction.
func (s *Store) Create(_ context.Context, rec *session.Record) error {
	now := s.now()
	v := session.MarshalRecord(rec)
	id := []byte(rec.ID)
	return s.write("create", func(tx *bolt.Tx) error {
		if tombLive(tx, id, now) {
			return fmt.Errorf("ended: %w", session.ErrConflict)
		}
		if old := tx.Bucket(bucketSessions).Get(id); old != nil {
			_, exp, err := session.UnmarshalRecordMeta(old)
			if err != nil {
				return err
			}
			if exp.After(now) {
				return fmt.Errorf("exists: %w", session.ErrConflict)
			}
		}
		if !rec.Expires.After(now) {
			return errNoWrite
		}
		return putTx(tx, rec, v)
	})
}

// Update replaces the live record rec.ID if it is at version: a
// compare-and-swap in one write transaction (bolt runs those one at a
// time, and the file is locked to one process). A missing, expired or ended
// record is session.ErrNotFound, one at another version
// session.ErrConflict; an rec.Expires not after now is ErrNotFound and
// writes nothing.
func (s *Store) Update(_ context.Context, rec *session.Record, version int64) error {
	now := s.now()
	v := session.MarshalRecord(rec)
	id := []byte(rec.ID)
	return s.write("update", func(tx *bolt.Tx) error {
		if tombLive(tx, id, now) {
			return fmt.Errorf("ended: %w", session.ErrNotFound)
		}
		old := tx.Bucket(bucketSessions).Get(id)
		if old == nil {
			return session.ErrNotFound
		}
		cur, err := session.UnmarshalRecord(rec.ID, old)
		if err != nil {
			return err
		}
		switch {
		case !cur.Expires.After(now):
			return fmt.Errorf("expired: %w", session.ErrNotFound)
		case cur.Version != version:
			return fmt.Errorf("at v%d, not v%d: %w", cur.Version, version, session.ErrConflict)
		case !rec.Expires.After(now):
			return fmt.Errorf("expiry in the past: %w", session.ErrNotFound)
		}
		return putTx(tx, rec, v)
	})
}

// Delete ends id in one write transaction: it removes the live record and
// its index entries, leaves a tombstone until until or the record's
// Expires, whichever is later, and returns the record as it was. Without a
// live record it writes nothing and returns nil, nil. A corrupt record is
// ended too (tombstone until until), and nil, nil returned: there is
// nothing to hand back.
func (s *Store) Delete(_ context.Context, id string, until time.Time) (*session.Record, error) {
	now := s.now()
	k := []byte(id)
	var ended *session.Record
	err := s.write("delete", func(tx *bolt.Tx) error {
		ended = nil
		if tombLive(tx, k, now) {
			return errNoWrite
		}
		old := tx.Bucket(bucketSessions).Get(k)
		if old == nil {
			return errNoWrite
		}
		end := until
		r, err := session.UnmarshalRecord(id, old)
		if err == nil {
			if !r.Expires.After(now) {
				return errNoWrite // the purge removes it
			}
			if r.Expires.After(end) {
				end = r.Expires
			}
		}
		if err := deleteTx(tx, k); err != nil {
			return err
		}
		if end.After(now) {
			if err := putTombTx(tx, k, end); err != nil {
				return err
			}
		}
		ended = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ended, nil
}

// putTx stores v, the encoded rec, with its index entries, replacing any
// record id had (and any tombstone of it, which the caller checked is past).
func putTx(tx *bolt.Tx, rec *session.Record, v []byte) error {
	id := []byte(rec.ID)
	if err := deleteTx(tx, id); err != nil {
		return err
	}
	if old := tx.Bucket(bucketEnded).Get(id); old != nil {
		if err := dropDueTx(tx, bucketEnded, bucketEndedExp, id, old); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketSessions).Put(id, v); err != nil {
		return err
	}
	if err := tx.Bucket(bucketUsers).Put(userIndexKey(rec.UserKey, rec.ID), nil); err != nil {
		return err
	}
	if k := rec.SIDKey(); k != "" {
		if err := tx.Bucket(bucketSIDs).Put(userIndexKey(k, rec.ID), nil); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketExpiry).Put(expiryKey(rec.Expires, rec.ID), nil)
}

// deleteTx removes the record id and its index entries, if present.
func deleteTx(tx *bolt.Tx, id []byte) error {
	sessions := tx.Bucket(bucketSessions)
	old := sessions.Get(id)
	if old == nil {
		return nil
	}
	userKey, sidKey, expires, err := session.UnmarshalRecordIndex(old)
	if err == nil {
		if err := tx.Bucket(bucketUsers).Delete(userIndexKey(userKey, string(id))); err != nil {
			return err
		}
		if sidKey != "" {
			if err := tx.Bucket(bucketSIDs).Delete(userIndexKey(sidKey, string(id))); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketExpiry).Delete(expiryKey(expires, string(id))); err != nil {
			return err
		}
	}
	// A corrupt record is still removed; its stale index entries are skipped
	// by ListByUser and ListBySID.
	return sessions.Delete(id)
}

// tombLive reports whether id has a tombstone whose end is after now.
func tombLive(tx *bolt.Tx, id []byte, now time.Time) bool {
	v := tx.Bucket(bucketEnded).Get(id)
	return len(v) == 8 && binary.BigEndian.Uint64(v) > uint64(now.UnixNano())
}

// putTombTx records (or moves) the tombstone of id to end.
func putTombTx(tx *bolt.Tx, id []byte, end time.Time) error {
	ended := tx.Bucket(bucketEnded)
	if old := ended.Get(id); old != nil {
		if err := dropDueTx(tx, bucketEnded, bucketEndedExp, id, old); err != nil {
			return err
		}
	}
	v := binary.BigEndian.AppendUint64(nil, uint64(end.UnixNano()))
	if err := ended.Put(id, v); err != nil {
		return err
	}
	return tx.Bucket(bucketEndedExp).Put(append(v, id...), nil)
}
