package boltstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/testclock"
)

func TestDeleteExpiredPurgesMarkers(t *testing.T) {
	clk := testclock.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	s := openTest(t, filepath.Join(t.TempDir(), "s.db"), Options{Now: clk.Now, CleanupInterval: -1})
	ctx := context.Background()
	mark := func(key string, ttl time.Duration) bool {
		t.Helper()
		seen, err := s.MarkUsed(ctx, key, clk.Now().Add(ttl))
		if err != nil {
			t.Fatalf("MarkUsed(%s): %v", key, err)
		}
		return seen
	}
	mark("a", time.Minute)
	mark("b", time.Hour)
	mark("c", time.Minute)
	clk.Add(time.Minute)
	// "c" has expired but is not purged yet; marking it again replaces its
	// expiry, and the purge must keep the new marker.
	if mark("c", time.Hour) {
		t.Fatal("MarkUsed(expired c) = seen")
	}
	if n, err := s.DeleteExpired(ctx, clk.Now()); err != nil || n != 0 {
		t.Fatalf("DeleteExpired = %d, %v; want 0 records", n, err)
	}
	if u, e := bucketLen(t, s, bucketUsed), bucketLen(t, s, bucketUsedExp); u != 2 || e != 2 {
		t.Fatalf("after the purge: %d markers, %d expiry entries; want 2, 2", u, e)
	}
	if !mark("b", time.Hour) || !mark("c", time.Hour) || mark("a", time.Hour) {
		t.Fatal("the purge removed a live marker or kept an expired one")
	}
	if err := s.UnmarkUsed(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Hour)
	if _, err := s.DeleteExpired(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if u, e := bucketLen(t, s, bucketUsed), bucketLen(t, s, bucketUsedExp); u != 0 || e != 0 {
		t.Fatalf("after everything expired: %d markers, %d expiry entries left", u, e)
	}
}

func TestMarkersPersistAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	ctx := context.Background()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if seen, err := s.MarkUsed(ctx, "flow:x", time.Now().Add(time.Hour)); seen || err != nil {
		t.Fatalf("MarkUsed = %v, %v", seen, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path, Options{})
	if seen, err := s.MarkUsed(ctx, "flow:x", time.Now().Add(time.Hour)); !seen || err != nil {
		t.Fatalf("MarkUsed after reopen = %v, %v; want seen", seen, err)
	}
}

// TestOpenIndexesOldFilesBySID opens a file written before the "sids" index
// existed and checks every record with a SID is found by ListBySID.
func TestOpenIndexesOldFilesBySID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(path, Options{CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2*purgeBatch + 3
	exp := time.Now().Add(time.Hour)
	err = s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketSIDs, bucketMeta} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		for i := range n {
			r := rec(fmt.Sprintf("id%05d", i), "cognito|u", exp)
			r.SID = ""
			if i%3 != 2 {
				r.SID = fmt.Sprintf("sid-%d", i%3)
			}
			if err := tx.Bucket(bucketSessions).Put([]byte(r.ID), session.MarshalRecord(r)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketSessions).Put([]byte("corrupt"), []byte("junk"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, path, Options{CleanupInterval: -1})
	ctx := context.Background()
	for sid, want := range map[string]int{"sid-0": (n + 2) / 3, "sid-1": (n + 1) / 3, "sid-2": 0} {
		list, err := s.ListBySID(ctx, session.SIDKey("cognito", sid))
		if err != nil || len(list) != want {
			t.Errorf("ListBySID(%s) = %d records, %v; want %d", sid, len(list), err, want)
		}
	}
	if got, want := bucketLen(t, s, bucketSIDs), n-n/3; got != want {
		t.Errorf("sids bucket has %d keys, want %d", got, want)
	}
	if bucketLen(t, s, bucketMeta) != 1 {
		t.Error("the backfill did not record that it is done")
	}
}
