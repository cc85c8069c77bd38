package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

// errEmptyKey is returned for a marker key of "" (not a store fault).
var errEmptyKey = errors.New("boltstore: empty marker key")

// MarkUsed records key until expires unless a live marker exists, reading
// and writing in one Update transaction (bolt runs those one at a time).
func (s *Store) MarkUsed(_ context.Context, key string, expires time.Time) (bool, error) {
	if key == "" {
		return false, errEmptyKey
	}
	now := uint64(s.now().UnixNano())
	exp := uint64(expires.UnixNano())
	seen := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		used := tx.Bucket(bucketUsed)
		if old := used.Get([]byte(key)); len(old) == 8 {
			if binary.BigEndian.Uint64(old) > now {
				seen = true
				return nil
			}
			if err := dropDueTx(tx, bucketUsed, bucketUsedExp, []byte(key), old); err != nil {
				return err
			}
		}
		if exp <= now {
			return nil
		}
		v := binary.BigEndian.AppendUint64(nil, exp)
		if err := used.Put([]byte(key), v); err != nil {
			return err
		}
		return tx.Bucket(bucketUsedExp).Put(append(v, key...), nil)
	})
	if err != nil {
		return false, fault("mark used", err)
	}
	return seen, nil
}

// UnmarkUsed removes the marker key; a missing marker is not an error.
func (s *Store) UnmarkUsed(_ context.Context, key string) error {
	if key == "" {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		old := tx.Bucket(bucketUsed).Get([]byte(key))
		if old == nil {
			return nil
		}
		return dropDueTx(tx, bucketUsed, bucketUsedExp, []byte(key), old)
	})
	if err != nil {
		return fault("unmark used", err)
	}
	return nil
}

// The markers and the tombstones are kept alike: bucket keys maps a key to
// its 8-byte big-endian Unix-nanosecond end, and bucket dues holds end + key
// (empty values), so the purge reads only what is due.

// dropDueTx removes key, whose stored end is old, from keys and dues.
func dropDueTx(tx *bolt.Tx, keys, dues, key, old []byte) error {
	ek := append(bytes.Clone(old), key...)
	if err := tx.Bucket(dues).Delete(ek); err != nil {
		return err
	}
	return tx.Bucket(keys).Delete(key)
}

// deleteDue removes the keys of bucket keys due by limit (Unix ns), as
// listed in bucket dues, purgeBatch per write transaction, and returns how
// many it removed.
func (s *Store) deleteDue(keys, dues []byte, limit uint64) (int, error) {
	total := 0
	for {
		n, removed := 0, 0
		err := s.db.Update(func(tx *bolt.Tx) error {
			n, removed = 0, 0
			var due [][]byte
			c := tx.Bucket(dues).Cursor()
			for k, _ := c.First(); k != nil && len(due) < purgeBatch; k, _ = c.Next() {
				if len(k) < 8 || binary.BigEndian.Uint64(k[:8]) > limit {
					break
				}
				due = append(due, bytes.Clone(k))
			}
			n = len(due)
			kb := tx.Bucket(keys)
			for _, k := range due {
				// Delete the key only if this entry is its current end.
				if cur := kb.Get(k[8:]); bytes.Equal(cur, k[:8]) {
					if err := kb.Delete(k[8:]); err != nil {
						return err
					}
					removed++
				}
				if err := tx.Bucket(dues).Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += removed
		if n < purgeBatch {
			return total, nil
		}
	}
}
