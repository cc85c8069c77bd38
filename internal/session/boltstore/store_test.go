package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/testclock"

	bolt "go.etcd.io/bbolt"

	"github.com/authbff/authbff/bff/store/storetest"
	"github.com/authbff/authbff/internal/session"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) session.Store {
		return openTest(t, filepath.Join(t.TempDir(), "sessions.db"), Options{})
	})
}

func openTest(t testing.TB, path string, o Options) *Store {
	t.Helper()
	s, err := Open(path, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

type clock = testclock.Clock

func rec(id, user string, exp time.Time) *session.Record {
	return &session.Record{ID: id, UserKey: user, Expires: exp, Created: exp.Add(-time.Hour), LastSeen: exp.Add(-time.Minute), Version: 2, SID: "sid", UserAgent: "ua", Sealed: []byte("sealed")}
}

// bucketLen counts the keys of a bucket.
func bucketLen(t *testing.T, s *Store, name []byte) int {
	t.Helper()
	n := 0
	if err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(name).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPersistsAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "sessions.db")
	ctx := context.Background()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := rec("abc", "cognito|alice", time.Now().Add(time.Hour))
	want.Created = time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)
	if err := s.Create(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Get(ctx, "abc"); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Get after Close = %v, want ErrUnavailable", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Ping after Close = %v, want ErrUnavailable", err)
	}

	s2 := openTest(t, path, Options{})
	got, err := s2.Get(ctx, "abc")
	if err != nil {
		t.Fatalf("Get after reopen: %v", err)
	}
	storetest.AssertEqual(t, got, want)
	if !got.Created.Equal(want.Created) {
		t.Errorf("Created = %v, want nanosecond precision %v", got.Created, want.Created)
	}
	list, err := s2.ListByUser(ctx, "cognito|alice")
	if err != nil || len(list) != 1 {
		t.Fatalf("ListByUser after reopen = %v, %v", list, err)
	}

	for p, mode := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700 | os.ModeDir} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != mode {
			t.Errorf("%s mode = %v, want %v", p, fi.Mode(), mode)
		}
	}
}

func TestLockedByAnotherOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	openTest(t, path, Options{})
	start := time.Now()
	s, err := Open(path, Options{})
	if err == nil {
		_ = s.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !strings.Contains(err.Error(), "another authbff running with the same SESSION_STORE") {
		t.Errorf("error %q does not explain the lock", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Open waited %v for the lock", d)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"parent is a file": filepath.Join(file, "sessions.db"),
		"not a bolt file":  file,
	}
	for name, path := range tests {
		t.Run(name, func(t *testing.T) {
			if s, err := Open(path, Options{CleanupInterval: -1}); err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
}

func TestDeleteExpired(t *testing.T) {
	clk := testclock.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	s := openTest(t, filepath.Join(t.TempDir(), "s.db"), Options{Now: clk.Now, CleanupInterval: -1})
	ctx := context.Background()
	start := clk.Now()
	for _, r := range []*session.Record{
		rec("a", "u|1", start.Add(time.Minute)),
		rec("b", "u|1", start.Add(time.Hour)),
		rec("c", "u|2", start.Add(2*time.Minute)),
		rec("d", "u|2", start.Add(time.Minute)),
	} {
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// Updating "d" to a later expiry must move its expiry index entry: the
	// purge must not delete the record for the old one.
	d := rec("d", "u|2", start.Add(3*time.Hour))
	d.Version++
	if err := s.Update(ctx, d, d.Version-1); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		advance time.Duration
		purged  int
		left    int
	}{
		{"nothing due", 30 * time.Second, 0, 4},
		{"exactly at expiry", 30 * time.Second, 1, 3},
		{"second due", 5 * time.Minute, 1, 2},
		{"idempotent", 0, 0, 2},
		{"one more", 2 * time.Hour, 1, 1},
		{"all", 2 * time.Hour, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk.Add(tc.advance)
			n, err := s.DeleteExpired(ctx, clk.Now())
			if err != nil || n != tc.purged {
				t.Errorf("DeleteExpired = %d, %v; want %d", n, err, tc.purged)
			}
			for name, want := range map[string]int{"sessions": tc.left, "users": tc.left, "sids": tc.left, "expiry": tc.left} {
				if got := bucketLen(t, s, []byte(name)); got != want {
					t.Errorf("bucket %s has %d keys, want %d", name, got, want)
				}
			}
		})
	}
}

func TestDeleteExpiredManyBatches(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openTest(t, filepath.Join(t.TempDir(), "s.db"), Options{Now: func() time.Time { return now }, CleanupInterval: -1})
	const n = 2*purgeBatch + 7
	// Insert in a few transactions directly: one Save per record would fsync n times.
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i := range n {
			r := rec(fmt.Sprintf("id%05d", i), "u|many", now.Add(time.Duration(i%50+1)*time.Second))
			if err := tx.Bucket(bucketSessions).Put([]byte(r.ID), session.MarshalRecord(r)); err != nil {
				return err
			}
			if err := tx.Bucket(bucketUsers).Put(userIndexKey(r.UserKey, r.ID), nil); err != nil {
				return err
			}
			if err := tx.Bucket(bucketExpiry).Put(expiryKey(r.Expires, r.ID), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.DeleteExpired(context.Background(), now.Add(time.Minute))
	if err != nil || got != n {
		t.Fatalf("DeleteExpired = %d, %v; want %d", got, err, n)
	}
	if k := bucketLen(t, s, bucketSessions) + bucketLen(t, s, bucketUsers) + bucketLen(t, s, bucketExpiry); k != 0 {
		t.Fatalf("%d keys left", k)
	}
}

func TestBackgroundPurge(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "s.db"), Options{CleanupInterval: 10 * time.Millisecond})
	if err := s.Create(context.Background(), rec("a", "u|1", time.Now().Add(20*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for bucketLen(t, s, bucketSessions) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("expired record not purged by the background goroutine")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCorruptRecordIsAFault(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "s.db"), Options{CleanupInterval: -1})
	ctx := context.Background()
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).Put([]byte("bad"), []byte{9, 9, 9})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "bad"); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Get(corrupt) = %v, want ErrUnavailable", err)
	}
	if err := s.Update(ctx, rec("bad", "u|1", time.Now().Add(time.Hour)), 2); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Update(corrupt) = %v, want ErrUnavailable", err)
	}
	// Delete ends a corrupt record too (there is nothing to return).
	if got, err := s.Delete(ctx, "bad", time.Now().Add(time.Hour)); got != nil || err != nil {
		t.Fatalf("Delete(corrupt) = %v, %v; want nil, nil", got, err)
	}
	if _, err := s.Get(ctx, "bad"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := s.Create(ctx, rec("bad", "u|1", time.Now().Add(time.Hour))); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Create after Delete of a corrupt record = %v, want ErrConflict", err)
	}
}

func TestCodec(t *testing.T) {
	tests := map[string]*session.Record{
		"full":  rec("id", "p|s", time.Date(2030, 1, 1, 0, 0, 0, 1, time.UTC)),
		"empty": {ID: "x"},
	}
	for name, r := range tests {
		t.Run(name, func(t *testing.T) {
			enc := session.MarshalRecord(r)
			got, err := session.UnmarshalRecord(r.ID, enc)
			if err != nil {
				t.Fatal(err)
			}
			storetest.AssertEqual(t, got, r)
			for i := range enc {
				if _, err := session.UnmarshalRecord(r.ID, enc[:i]); err == nil {
					t.Fatalf("decode of %d-byte prefix succeeded", i)
				}
			}
			if _, err := session.UnmarshalRecord(r.ID, append(enc, 0)); err == nil {
				t.Fatal("decode with a trailing byte succeeded")
			}
		})
	}
}

func BenchmarkGet(b *testing.B) {
	s := openTest(b, filepath.Join(b.TempDir(), "s.db"), Options{})
	ctx := context.Background()
	r := rec("4f1c0ad0a5cbc6bb4d6a0d1b8e2d2b4c7ad2d6f5b1f93e0f9c1c5b4e8a9d0f11", "cognito|alice", time.Now().Add(time.Hour))
	r.Sealed = make([]byte, 600)
	if err := s.Create(ctx, r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, r.ID); err != nil {
			b.Fatal(err)
		}
	}
}
