package boltstore

import (
	"bytes"

	bolt "go.etcd.io/bbolt"

	"github.com/authbff/authbff/internal/session"
)

// metaSIDIndexed, in bucket "meta", says every record is in the "sids" index.
var metaSIDIndexed = []byte("sid-index")

// backfillSIDs indexes by SIDKey the records of a file written before the
// "sids" bucket existed, purgeBatch records per write transaction, then
// notes in "meta" that it is done. On a fresh file it only writes the note.
// Open calls it before any other use, so no write runs meanwhile; a crash
// part way through redoes it (Put is idempotent).
func backfillSIDs(db *bolt.DB) error {
	var done bool
	if err := db.View(func(tx *bolt.Tx) error {
		done = tx.Bucket(bucketMeta).Get(metaSIDIndexed) != nil
		return nil
	}); err != nil || done {
		return err
	}
	var after []byte // the last record indexed so far
	for {
		more := false
		err := db.Update(func(tx *bolt.Tx) error {
			sids := tx.Bucket(bucketSIDs)
			c := tx.Bucket(bucketSessions).Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for n := 0; k != nil; k, v = c.Next() {
				if n == purgeBatch {
					more = true
					return nil
				}
				n++
				after = bytes.Clone(k)
				_, sidKey, _, err := session.UnmarshalRecordIndex(v)
				if err != nil || sidKey == "" {
					continue // a corrupt record stays unindexed, as Delete expects
				}
				if err := sids.Put(userIndexKey(sidKey, string(k)), nil); err != nil {
					return err
				}
			}
			return tx.Bucket(bucketMeta).Put(metaSIDIndexed, []byte{1})
		})
		if err != nil || !more {
			return err
		}
	}
}
