package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/authbff/authbff/bff/store/storetest"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/testclock"
)

// txID returns the id of the last committed write transaction.
func txID(t *testing.T, s *Store) int {
	t.Helper()
	var id int
	if err := s.db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

// wantEnded checks that r.ID is ended: Get and ListByUser do not return it,
// Create is refused with ErrConflict and Update with ErrNotFound.
func wantEnded(t *testing.T, s *Store, r *session.Record) {
	t.Helper()
	ctx := context.Background()
	if got, err := s.Get(ctx, r.ID); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get(ended %s) = %v, %v; want ErrNotFound", r.ID, got, err)
	}
	again := *r
	again.Version++
	if err := s.Create(ctx, &again); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Create(ended %s) = %v, want ErrConflict", r.ID, err)
	}
	if err := s.Update(ctx, &again, r.Version); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Update(ended %s) = %v, want ErrNotFound", r.ID, err)
	}
	list, err := s.ListByUser(ctx, r.UserKey)
	if err != nil {
		t.Fatalf("ListByUser(%s): %v", r.UserKey, err)
	}
	for _, l := range list {
		if l.ID == r.ID {
			t.Fatalf("ListByUser(%s) returns ended %s", r.UserKey, r.ID)
		}
	}
}

// TestTombstonesPersistAndArePurged: a tombstone is in the file (it
// survives Close and Open), lasts until the later of `until` and the
// record's Expires, and is purged once past its end.
func TestTombstonesPersistAndArePurged(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := testclock.New(start)
	path := filepath.Join(t.TempDir(), "s.db")
	o := Options{Now: clk.Now, CleanupInterval: -1}
	s, err := Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// a: the tombstone outlives the record (until is later);
	// b: the record outlives until, so its tombstone lasts to its expiry.
	a := rec("a", "u|a", start.Add(time.Hour))
	b := rec("b", "u|b", start.Add(3*time.Hour))
	for _, r := range []*session.Record{a, b} {
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for r, until := range map[*session.Record]time.Time{a: start.Add(2 * time.Hour), b: start.Add(time.Hour)} {
		got, err := s.Delete(ctx, r.ID, until)
		if err != nil {
			t.Fatalf("Delete(%s): %v", r.ID, err)
		}
		storetest.AssertEqual(t, got, r)
	}
	// Ending an ended or missing id writes nothing.
	before := txID(t, s)
	for _, id := range []string{"a", "missing"} {
		if got, err := s.Delete(ctx, id, start.Add(5*time.Hour)); got != nil || err != nil {
			t.Fatalf("Delete(%s) = %v, %v; want nil, nil", id, got, err)
		}
	}
	if after := txID(t, s); after != before {
		t.Fatalf("Delete without a live record committed %d write transactions", after-before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, path, o)
	wantEnded(t, s, a)
	wantEnded(t, s, b)
	steps := []struct {
		name    string
		advance time.Duration
		ended   []*session.Record // still tombstoned after the purge
		free    []*session.Record // tombstone purged
	}{
		{"a's record would have expired", 90 * time.Minute, []*session.Record{a, b}, nil},
		{"a's tombstone ends", 30 * time.Minute, []*session.Record{b}, []*session.Record{a}},
		{"past b's expiry", time.Hour, nil, []*session.Record{a, b}},
	}
	for _, st := range steps {
		clk.Add(st.advance)
		if _, err := s.DeleteExpired(ctx, clk.Now()); err != nil {
			t.Fatalf("%s: DeleteExpired: %v", st.name, err)
		}
		for _, name := range [][]byte{bucketEnded, bucketEndedExp} {
			if n := bucketLen(t, s, name); n != len(st.ended) {
				t.Fatalf("%s: bucket %s has %d keys, want %d", st.name, name, n, len(st.ended))
			}
		}
		for _, r := range st.ended {
			wantEnded(t, s, r)
		}
	}
	// Once the tombstone is gone the id may be used again.
	again := rec("a", "u|a", clk.Now().Add(time.Hour))
	if err := s.Create(ctx, again); err != nil {
		t.Fatalf("Create after the tombstone was purged: %v", err)
	}
	storetest.AssertEqual(t, mustGet(t, s, "a"), again)
}

func mustGet(t *testing.T, s *Store, id string) *session.Record {
	t.Helper()
	r, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return r
}

// writeOldFile writes sessions as the code before tombstones did, by hand:
// its buckets only (withSIDs: the "sids" index and the "meta" note of the
// version just before; without: the older layout that Open indexes once).
func writeOldFile(t *testing.T, path string, withSIDs bool, recs ...*session.Record) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		names := []string{"sessions", "users", "expiry", "used", "used-expiry"}
		if withSIDs {
			names = append(names, "sids", "meta")
		}
		bk := map[string]*bolt.Bucket{}
		for _, n := range names {
			b, err := tx.CreateBucket([]byte(n))
			if err != nil {
				return err
			}
			bk[n] = b
		}
		for _, r := range recs {
			puts := map[string][]byte{
				"users":  append(append([]byte(r.UserKey), 0), r.ID...),
				"expiry": append(binary.BigEndian.AppendUint64(nil, uint64(r.Expires.UnixNano())), r.ID...),
			}
			if withSIDs && r.SIDKey() != "" {
				puts["sids"] = append(append([]byte(r.SIDKey()), 0), r.ID...)
			}
			if err := bk["sessions"].Put([]byte(r.ID), session.MarshalRecord(r)); err != nil {
				return err
			}
			for n, k := range puts {
				if err := bk[n].Put(k, nil); err != nil {
					return err
				}
			}
		}
		if withSIDs {
			return bk["meta"].Put([]byte("sid-index"), []byte{1})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOpensFileWithoutTombstoneBuckets: a file written before tombstones
// opens, and its sessions load, list, update and end.
func TestOpensFileWithoutTombstoneBuckets(t *testing.T) {
	for name, withSIDs := range map[string]bool{"previous": true, "before sids": false} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			now := time.Now()
			a := rec("a", "cognito|alice", now.Add(time.Hour))
			a.SID = "idp-session"
			b := rec("b", "cognito|alice", now.Add(2*time.Hour))
			writeOldFile(t, path, withSIDs, a, b)

			s := openTest(t, path, Options{CleanupInterval: -1})
			ctx := context.Background()
			storetest.AssertEqual(t, mustGet(t, s, "a"), a)
			if list, err := s.ListByUser(ctx, "cognito|alice"); err != nil || len(list) != 2 {
				t.Fatalf("ListByUser = %v, %v; want 2 records", list, err)
			}
			if list, err := s.ListBySID(ctx, a.SIDKey()); err != nil || len(list) != 1 || list[0].ID != "a" {
				t.Fatalf("ListBySID = %v, %v; want a", list, err)
			}

			next := *a
			next.Version++
			next.Sealed = []byte("refreshed")
			next.Revoke = []byte("revoke")
			if err := s.Update(ctx, &next, a.Version); err != nil {
				t.Fatalf("Update of an old record: %v", err)
			}
			storetest.AssertEqual(t, mustGet(t, s, "a"), &next)
			if err := s.Update(ctx, &next, a.Version); !errors.Is(err, session.ErrConflict) {
				t.Fatalf("second Update from v%d = %v, want ErrConflict", a.Version, err)
			}
			if got, err := s.Delete(ctx, "b", now.Add(time.Hour)); err != nil || got == nil {
				t.Fatalf("Delete(b) = %v, %v", got, err)
			}
			wantEnded(t, s, b)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s = openTest(t, path, Options{CleanupInterval: -1})
			storetest.AssertEqual(t, mustGet(t, s, "a"), &next)
			wantEnded(t, s, b)
		})
	}
}
