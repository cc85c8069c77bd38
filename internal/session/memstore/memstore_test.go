package memstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/testclock"

	"github.com/authbff/authbff/bff/store/storetest"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) session.Store {
		s := memstore.New(memstore.Options{})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

type clock = testclock.Clock

func rec(id, user string, exp time.Time) *session.Record {
	return &session.Record{ID: id, UserKey: user, Expires: exp, Sealed: []byte("x")}
}

func TestDeleteExpired(t *testing.T) {
	clk := testclock.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	s := memstore.New(memstore.Options{Now: clk.Now, CleanupInterval: -1})
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	start := clk.Now()
	for _, r := range []*session.Record{
		rec("a", "u|1", start.Add(time.Minute)),
		rec("b", "u|1", start.Add(time.Hour)),
		rec("c", "u|2", start.Add(2*time.Minute)),
	} {
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		advance time.Duration
		purged  int
		left    int
	}{
		{"nothing due", 30 * time.Second, 0, 3},
		{"exactly at expiry", 30 * time.Second, 1, 2},
		{"second due", 5 * time.Minute, 1, 1},
		{"idempotent", 0, 0, 1},
		{"all", 2 * time.Hour, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk.Add(tc.advance)
			if n, err := s.DeleteExpired(ctx, clk.Now()); n != tc.purged || err != nil {
				t.Errorf("DeleteExpired = %d, %v; want %d, nil", n, err, tc.purged)
			}
			if s.Len() != tc.left {
				t.Errorf("Len = %d, want %d", s.Len(), tc.left)
			}
		})
	}
	list, err := s.ListByUser(ctx, "u|1")
	if err != nil || len(list) != 0 {
		t.Fatalf("ListByUser after purge = %v, %v", list, err)
	}
}

func TestDeleteExpiredPurgesMarkers(t *testing.T) {
	clk := testclock.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	s := memstore.New(memstore.Options{Now: clk.Now, CleanupInterval: -1})
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	for key, ttl := range map[string]time.Duration{"flow:a": time.Minute, "flow:b": time.Hour} {
		if seen, err := s.MarkUsed(ctx, key, clk.Now().Add(ttl)); seen || err != nil {
			t.Fatalf("MarkUsed(%s) = %v, %v", key, seen, err)
		}
	}
	clk.Add(time.Minute)
	if n, _ := s.DeleteExpired(ctx, clk.Now()); n != 0 || s.Markers() != 1 {
		t.Fatalf("DeleteExpired = %d records, %d markers left; want 0 records, 1 marker", n, s.Markers())
	}
	if seen, _ := s.MarkUsed(ctx, "flow:b", clk.Now().Add(time.Hour)); !seen {
		t.Fatal("the live marker was purged")
	}
}

func TestExpiredHiddenBeforePurge(t *testing.T) {
	clk := testclock.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	s := memstore.New(memstore.Options{Now: clk.Now, CleanupInterval: -1})
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	if err := s.Create(ctx, rec("a", "u|1", clk.Now().Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	if _, err := s.Get(ctx, "a"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get expired = %v, want ErrNotFound", err)
	}
	if list, _ := s.ListByUser(ctx, "u|1"); len(list) != 0 {
		t.Fatalf("ListByUser expired = %d records, want 0", len(list))
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d, want 1 (not yet purged)", s.Len())
	}
}

func TestBackgroundPurge(t *testing.T) {
	s := memstore.New(memstore.Options{CleanupInterval: 10 * time.Millisecond})
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Create(context.Background(), rec("a", "u|1", time.Now().Add(20*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for s.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("expired record not purged by the background goroutine")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestClose(t *testing.T) {
	for _, interval := range []time.Duration{-1, 0, time.Millisecond} {
		s := memstore.New(memstore.Options{CleanupInterval: interval})
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		ctx := context.Background()
		if _, err := s.Get(ctx, "a"); !errors.Is(err, session.ErrUnavailable) {
			t.Errorf("Get after Close = %v, want ErrUnavailable", err)
		}
		if err := s.Create(ctx, rec("a", "u", time.Now().Add(time.Hour))); !errors.Is(err, session.ErrUnavailable) {
			t.Errorf("Save after Close = %v, want ErrUnavailable", err)
		}
		if err := s.Ping(ctx); !errors.Is(err, session.ErrUnavailable) {
			t.Errorf("Ping after Close = %v, want ErrUnavailable", err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	s := memstore.New(memstore.Options{})
	b.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	if err := s.Create(ctx, &session.Record{ID: "a", UserKey: "u", Expires: time.Now().Add(time.Hour), Sealed: make([]byte, 600)}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, "a"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDeleteExpiredPurgesTombstones: a tombstone refuses its id until its
// end, and the purge then forgets it.
func TestDeleteExpiredPurgesTombstones(t *testing.T) {
	clk := testclock.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	s := memstore.New(memstore.Options{Now: clk.Now, CleanupInterval: -1})
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	r := rec("a", "u|1", clk.Now().Add(time.Minute))
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Delete(ctx, "a", clk.Now().Add(time.Hour)); got == nil || err != nil {
		t.Fatalf("Delete = %v, %v", got, err)
	}
	clk.Add(30 * time.Minute)
	if _, err := s.DeleteExpired(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
	again := rec("a", "u|1", clk.Now().Add(time.Hour))
	if err := s.Create(ctx, again); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Create within the tombstone = %v, want ErrConflict", err)
	}
	clk.Add(time.Hour)
	if _, err := s.DeleteExpired(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
	again.Expires = clk.Now().Add(time.Hour)
	if err := s.Create(ctx, again); err != nil {
		t.Fatalf("Create after the tombstone was purged = %v", err)
	}
}
