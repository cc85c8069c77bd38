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
			if err := deleteMarkTx(tx, key, old); err != nil {
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
		return deleteMarkTx(tx, key, old)
	})
	if err != nil {
		return fault("unmark used", err)
	}
	return nil
}

// deleteMarkTx removes the marker key whose stored expiry is old.
func deleteMarkTx(tx *bolt.Tx, key string, old []byte) error {
	ek := append(bytes.Clone(old), key...)
	if err := tx.Bucket(bucketUsedExp).Delete(ek); err != nil {
		return err
	}
	return tx.Bucket(bucketUsed).Delete([]byte(key))
}

// deleteExpiredMarks removes the markers due by limit (Unix ns), purgeBatch
// per write transaction.
func (s *Store) deleteExpiredMarks(limit uint64) error {
	for {
		n := 0
		err := s.db.Update(func(tx *bolt.Tx) error {
			var due [][]byte
			c := tx.Bucket(bucketUsedExp).Cursor()
			for k, _ := c.First(); k != nil && len(due) < purgeBatch; k, _ = c.Next() {
				if len(k) < 8 || binary.BigEndian.Uint64(k[:8]) > limit {
					break
				}
				due = append(due, bytes.Clone(k))
			}
			n = len(due)
			used := tx.Bucket(bucketUsed)
			for _, k := range due {
				// Delete the marker only if this entry is its current expiry.
				if cur := used.Get(k[8:]); bytes.Equal(cur, k[:8]) {
					if err := used.Delete(k[8:]); err != nil {
						return err
					}
				}
				if err := tx.Bucket(bucketUsedExp).Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || n < purgeBatch {
			return err
		}
	}
}
