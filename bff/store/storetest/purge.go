package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/authbff/authbff/bff/store"
)

// testDeleteExpired checks store.Purger on stores that implement it. The
// stores run on the wall clock, so the sweep is asked for a moment two hours
// ahead: what expires before then must be gone although the store's own
// clock still holds it live, and what expires after must be untouched.
func testDeleteExpired(t *testing.T, s store.Store) {
	p, ok := s.(store.Purger)
	if !ok {
		t.Skipf("%T does not implement store.Purger (it expires data by itself)", s)
	}
	now := time.Now()
	sweep := now.Add(2 * time.Hour)
	withExp := func(userKey string, exp time.Time) *store.Record {
		r := withSID(t, userKey, "sid-purge")
		r.Expires = exp
		return r
	}
	// Records: two due before the sweep (one exactly at it), one after.
	due := withExp("u|purge", now.Add(time.Hour))
	dueAt := withExp("u|purge", sweep)
	kept := withExp("u|purge", now.Add(3*time.Hour))
	for _, r := range []*store.Record{due, dueAt, kept} {
		mustCreate(t, s, r)
	}
	// Tombstones: one ending before the sweep, one after.
	endedDue := withExp("u|purge-ended", now.Add(time.Hour))
	endedKept := withExp("u|purge-ended", now.Add(time.Hour))
	mustCreate(t, s, endedDue)
	mustCreate(t, s, endedKept)
	if _, err := s.Delete(ctx(t), endedDue.ID, now.Add(90*time.Minute)); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Delete(ctx(t), endedKept.ID, now.Add(3*time.Hour)); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	// Markers: one due before the sweep, one after.
	markDue, markKept := "purge-due-"+uniqueID(t), "purge-kept-"+uniqueID(t)
	for key, exp := range map[string]time.Time{markDue: now.Add(time.Hour), markKept: now.Add(3 * time.Hour)} {
		if seen, err := s.MarkUsed(ctx(t), key, exp); seen || err != nil {
			t.Fatalf("MarkUsed(%s) = %v, %v; want false, nil", key, seen, err)
		}
	}

	n, err := p.DeleteExpired(ctx(t), sweep)
	if err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}
	if n != 2 {
		t.Errorf("DeleteExpired removed %d records, want 2 (the ended ones were no longer records)", n)
	}
	wantNotFound(t, s, due.ID)
	wantNotFound(t, s, dueAt.ID)
	AssertEqual(t, mustGet(t, s, kept.ID), kept)
	wantList(t, s, "u|purge", kept)
	wantSIDList(t, s, kept.SIDKey(), kept)

	// A past tombstone no longer refuses the id; a live one still does.
	again := *endedDue
	again.Expires = now.Add(4 * time.Hour)
	if err := s.Create(ctx(t), &again); err != nil {
		t.Errorf("Create over a tombstone past its end after DeleteExpired = %v, want nil", err)
	}
	refused := *endedKept
	refused.Expires = now.Add(4 * time.Hour)
	if err := s.Create(ctx(t), &refused); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Create over a tombstone still in force after DeleteExpired = %v, want ErrConflict", err)
	}

	// A purged marker is unused again; a later one still seen.
	if seen, err := s.MarkUsed(ctx(t), markDue, now.Add(4*time.Hour)); seen || err != nil {
		t.Errorf("MarkUsed of a purged marker = %v, %v; want false, nil", seen, err)
	}
	if seen, err := s.MarkUsed(ctx(t), markKept, now.Add(4*time.Hour)); !seen || err != nil {
		t.Errorf("MarkUsed of a marker expiring after the sweep = %v, %v; want true, nil", seen, err)
	}

	// Idempotent: nothing left to remove.
	if n, err := p.DeleteExpired(ctx(t), sweep); n != 0 || err != nil {
		t.Errorf("second DeleteExpired = %d, %v; want 0, nil", n, err)
	}
	AssertEqual(t, mustGet(t, s, kept.ID), kept)
}
