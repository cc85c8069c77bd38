package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbff/authbff/bff/store"
)

// The cases of "ending a session is final": conditional writes and
// tombstones.

func testCreateTaken(t *testing.T, s store.Store) {
	rec := newRecord(t, "u|taken")
	mustCreate(t, s, rec)
	other := *rec
	other.UserKey = "u|thief"
	other.Sealed = []byte("other")
	if err := s.Create(ctx(t), &other); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Create of a taken id = %v, want ErrConflict", err)
	}
	AssertEqual(t, mustGet(t, s, rec.ID), rec)
	wantList(t, s, "u|thief")
}

func testUpdateVersion(t *testing.T, s store.Store) {
	rec := newRecord(t, "u|cas")
	mustCreate(t, s, rec)
	next := *rec
	next.Version = rec.Version + 1
	next.Sealed = []byte("v+1")
	mustUpdate(t, s, &next, rec.Version)
	AssertEqual(t, mustGet(t, s, rec.ID), &next)

	// A write based on the old version is refused and changes nothing.
	stale := *rec
	stale.Version = rec.Version + 1
	stale.Sealed = []byte("stale")
	if err := s.Update(ctx(t), &stale, rec.Version); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Update from a stale version = %v, want ErrConflict", err)
	}
	if err := s.Update(ctx(t), &stale, rec.Version+7); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Update from a future version = %v, want ErrConflict", err)
	}
	AssertEqual(t, mustGet(t, s, rec.ID), &next)
}

func testUpdateMissing(t *testing.T, s store.Store) {
	rec := newRecord(t, "u|missing")
	if err := s.Update(ctx(t), rec, rec.Version-1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Update of a missing id = %v, want ErrNotFound", err)
	}
	wantNotFound(t, s, rec.ID)
	wantList(t, s, "u|missing")
}

func testEndedIsFinal(t *testing.T, s store.Store) {
	rec := newRecord(t, "u|ended")
	mustCreate(t, s, rec)
	got := mustDelete(t, s, rec.ID)
	if got == nil {
		t.Fatal("Delete returned no record for a live one")
	}
	AssertEqual(t, got, rec)

	// The write of a refresh that was in flight: refused, nothing back.
	late := *rec
	late.Version = rec.Version + 1
	late.Sealed = []byte("late refresh")
	if err := s.Update(ctx(t), &late, rec.Version); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Update after Delete = %v, want ErrNotFound", err)
	}
	// Nor may a create of the same id pass the tombstone.
	if err := s.Create(ctx(t), &late); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Create after Delete = %v, want ErrConflict", err)
	}
	wantNotFound(t, s, rec.ID)
	wantList(t, s, "u|ended")
	wantSIDList(t, s, rec.SIDKey())

	// Ending it again finds nothing to end.
	if again, err := s.Delete(ctx(t), rec.ID, time.Now().Add(time.Hour)); again != nil || err != nil {
		t.Fatalf("second Delete = %v, %v; want nil, nil", again, err)
	}
	if err := s.Update(ctx(t), &late, late.Version); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Update after two Deletes = %v, want ErrNotFound", err)
	}
	wantNotFound(t, s, rec.ID)
}

// testTombstoneOutlivesRecord: the tombstone lasts until `until` even when
// the record itself would have expired before.
func testTombstoneOutlivesRecord(t *testing.T, s store.Store) {
	rec := newRecord(t, "u|tomb")
	rec.Expires = time.Now().Add(500 * time.Millisecond)
	mustCreate(t, s, rec)
	if _, err := s.Delete(ctx(t), rec.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	time.Sleep(time.Until(rec.Expires.Add(300 * time.Millisecond)))
	again := *rec
	again.Expires = time.Now().Add(time.Hour)
	if err := s.Create(ctx(t), &again); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Create after the record's expiry, within the tombstone = %v, want ErrConflict", err)
	}
	wantNotFound(t, s, rec.ID)
}

// testConcurrentUpdates: of writers racing from one version, exactly one
// wins.
func testConcurrentUpdates(t *testing.T, s store.Store) {
	const writers = 16
	for round := range 5 {
		rec := newRecord(t, "u|race")
		mustCreate(t, s, rec)
		var wins atomic.Int32
		var winner atomic.Value
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine := *rec
				mine.Version = rec.Version + 1
				mine.Sealed = []byte{byte(w), byte(round)}
				<-start
				err := s.Update(ctx(t), &mine, rec.Version)
				switch {
				case err == nil:
					wins.Add(1)
					winner.Store(mine.Sealed)
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("writer %d: Update = %v, want nil or ErrConflict", w, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d of %d concurrent updates from one version won, want exactly 1", round, n, writers)
		}
		got := mustGet(t, s, rec.ID)
		if w := winner.Load().([]byte); string(got.Sealed) != string(w) {
			t.Fatalf("round %d: stored %v, want the winner's %v", round, got.Sealed, w)
		}
	}
}

// testUpdateRacesDelete: an update racing a delete never resurrects the
// record, whichever lands first.
func testUpdateRacesDelete(t *testing.T, s store.Store) {
	for round := range 20 {
		rec := newRecord(t, "u|racedel")
		mustCreate(t, s, rec)
		var wg sync.WaitGroup
		start := make(chan struct{})
		var deleted *store.Record
		var updateErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			var err error
			deleted, err = s.Delete(ctx(t), rec.ID, time.Now().Add(time.Hour))
			if err != nil {
				t.Errorf("Delete: %v", err)
			}
		}()
		go func() {
			defer wg.Done()
			next := *rec
			next.Version = rec.Version + 1
			next.Sealed = []byte("refreshed")
			<-start
			updateErr = s.Update(ctx(t), &next, rec.Version)
		}()
		close(start)
		wg.Wait()
		wantNotFound(t, s, rec.ID)
		wantList(t, s, "u|racedel")
		if deleted == nil {
			t.Fatalf("round %d: Delete returned no record", round)
		}
		// Delete returns the record as it ended: the update's if it landed first.
		switch {
		case updateErr == nil && deleted.Version != rec.Version+1:
			t.Fatalf("round %d: the update landed first but Delete returned v%d", round, deleted.Version)
		case updateErr != nil && !errors.Is(updateErr, store.ErrNotFound):
			t.Fatalf("round %d: Update after Delete = %v, want ErrNotFound", round, updateErr)
		case updateErr != nil && deleted.Version != rec.Version:
			t.Fatalf("round %d: Delete returned v%d, want v%d", round, deleted.Version, rec.Version)
		}
	}
}
