package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/bff/store"
)

func testGetMissing(t *testing.T, s store.Store) {
	wantNotFound(t, s, uniqueID(t))
}

func testRoundTrip(t *testing.T, s store.Store) {
	rec := newRecord(t, "cognito|alice")
	want := *rec
	want.Sealed = append([]byte(nil), rec.Sealed...)
	mustCreate(t, s, rec)
	AssertEqual(t, mustGet(t, s, rec.ID), &want)

	// Optional fields empty and a large payload.
	bare := &store.Record{
		ID:      uniqueID(t),
		UserKey: "p|bare",
		Expires: time.Now().Add(time.Hour),
		Sealed:  make([]byte, 8192),
	}
	for i := range bare.Sealed {
		bare.Sealed[i] = byte(i * 7)
	}
	mustCreate(t, s, bare)
	AssertEqual(t, mustGet(t, s, bare.ID), bare)
}

func testReplace(t *testing.T, s store.Store) {
	rec := newRecord(t, "cognito|alice")
	mustCreate(t, s, rec)
	next := *rec
	next.UserKey = "cognito|bob"
	next.Version = rec.Version + 1
	next.Sealed = []byte("replaced")
	next.LastSeen = rec.LastSeen.Add(time.Second)
	next.Expires = rec.Expires.Add(time.Hour)
	mustUpdate(t, s, &next, rec.Version)
	AssertEqual(t, mustGet(t, s, rec.ID), &next)
	// The user index follows the replacement.
	wantList(t, s, "cognito|alice")
	wantList(t, s, "cognito|bob", &next)
}

func testDelete(t *testing.T, s store.Store) {
	a, b := newRecord(t, "u|a"), newRecord(t, "u|a")
	mustCreate(t, s, a)
	mustCreate(t, s, b)
	if got := mustDelete(t, s, a.ID); got == nil {
		t.Fatal("Delete returned no record for a live one")
	} else {
		AssertEqual(t, got, a)
	}
	wantNotFound(t, s, a.ID)
	AssertEqual(t, mustGet(t, s, b.ID), b)
	wantList(t, s, "u|a", b)
}

func testDeleteMissing(t *testing.T, s store.Store) {
	if got, err := s.Delete(ctx(t), uniqueID(t), time.Now().Add(time.Hour)); got != nil || err != nil {
		t.Fatalf("Delete(missing) = %v, %v; want nil, nil", got, err)
	}
}

func testListByUser(t *testing.T, s store.Store) {
	users := []string{"cognito|alice", "cognito|bob", "google|alice"}
	byUser := make(map[string][]*store.Record)
	for i, u := range users {
		for range i + 2 {
			r := newRecord(t, u)
			mustCreate(t, s, r)
			byUser[u] = append(byUser[u], r)
		}
	}
	for _, u := range users {
		wantList(t, s, u, byUser[u]...)
	}
	wantList(t, s, "cognito|nobody")
	wantList(t, s, "cognito")

	bob := byUser["cognito|bob"]
	for _, r := range bob[:2] {
		mustDelete(t, s, r.ID)
	}
	wantList(t, s, "cognito|bob", bob[2:]...)
	wantList(t, s, "cognito|alice", byUser["cognito|alice"]...)
}

func testWriteExpired(t *testing.T, s store.Store) {
	past := newRecord(t, "u|past")
	past.Expires = time.Now().Add(-time.Second)
	mustCreate(t, s, past)
	wantNotFound(t, s, past.ID)
	wantList(t, s, "u|past")

	// An update to an expiry in the past writes nothing and reports the
	// record gone.
	live := newRecord(t, "u|past")
	mustCreate(t, s, live)
	gone := *live
	gone.Version = live.Version + 1
	gone.Expires = time.Now().Add(-time.Millisecond)
	if err := s.Update(ctx(t), &gone, live.Version); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Update to a past expiry = %v, want ErrNotFound", err)
	}
	AssertEqual(t, mustGet(t, s, live.ID), live)
}

func testExpiresInRealTime(t *testing.T, s store.Store) {
	short := newRecord(t, "u|exp")
	short.Expires = time.Now().Add(1200 * time.Millisecond)
	long := newRecord(t, "u|exp")
	mustCreate(t, s, short)
	mustCreate(t, s, long)
	AssertEqual(t, mustGet(t, s, short.ID), short)
	wantList(t, s, "u|exp", short, long)
	sidKey := short.SIDKey()
	wantSIDList(t, s, sidKey, short, long)
	c := ctx(t)
	for _, m := range []struct {
		key string
		exp time.Time
	}{{"mark-short", short.Expires}, {"mark-long", long.Expires}} {
		if seen, err := s.MarkUsed(c, m.key, m.exp); seen || err != nil {
			t.Fatalf("MarkUsed(%s) = %v, %v; want a new marker", m.key, seen, err)
		}
	}

	time.Sleep(time.Until(short.Expires.Add(300 * time.Millisecond)))
	wantNotFound(t, s, short.ID)
	wantList(t, s, "u|exp", long)
	wantSIDList(t, s, sidKey, long)
	for _, m := range []struct {
		key      string
		wantSeen bool
	}{{"mark-short", false}, {"mark-long", true}} {
		if seen, err := s.MarkUsed(c, m.key, long.Expires); seen != m.wantSeen || err != nil {
			t.Fatalf("MarkUsed(%s) after the short expiry = %v, %v; want seen=%v", m.key, seen, err, m.wantSeen)
		}
	}
}

func testReturnsCopies(t *testing.T, s store.Store) {
	rec := newRecord(t, "u|copy")
	want := *rec
	want.Sealed = append([]byte(nil), rec.Sealed...)
	mustCreate(t, s, rec)
	// Mutating the saved value does not reach the store.
	rec.Sealed[0] ^= 0xff
	rec.UserKey = "u|mutated"
	rec.Version = 99

	got := mustGet(t, s, want.ID)
	AssertEqual(t, got, &want)
	got.Sealed[0] ^= 0xff
	got.SID = "mutated"
	got.Expires = time.Time{}
	AssertEqual(t, mustGet(t, s, want.ID), &want)

	list, err := s.ListByUser(ctx(t), "u|copy")
	if err != nil || len(list) != 1 {
		t.Fatalf("ListByUser = %d records, %v; want 1", len(list), err)
	}
	list[0].Sealed[1] ^= 0xff
	list[0].Version = 7
	AssertEqual(t, mustGet(t, s, want.ID), &want)
	wantList(t, s, "u|copy", &want)
}

func testConcurrent(t *testing.T, s store.Store) {
	const workers, rounds = 50, 20
	shared := newRecord(t, "u|shared")
	mustCreate(t, s, shared)
	c := ctx(t)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				own := newRecord(t, fmt.Sprintf("u|w%d", w%5))
				own.Version = int64(i)
				if err := s.Create(c, own); err != nil {
					t.Errorf("worker %d: Create: %v", w, err)
					return
				}
				got, err := s.Get(c, own.ID)
				if err != nil {
					t.Errorf("worker %d: Get own: %v", w, err)
					return
				}
				if got.ID != own.ID || got.Version != int64(i) {
					t.Errorf("worker %d: Get own = id %s v%d, want v%d", w, got.ID[:8], got.Version, i)
					return
				}
				if _, err := s.Get(c, shared.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("worker %d: Get shared: %v", w, err)
					return
				}
				if _, err := s.ListByUser(c, own.UserKey); err != nil {
					t.Errorf("worker %d: ListByUser: %v", w, err)
					return
				}
				if w%10 == 0 && i == rounds/2 {
					if _, err := s.Delete(c, shared.ID, time.Now().Add(time.Hour)); err != nil {
						t.Errorf("worker %d: Delete shared: %v", w, err)
						return
					}
				}
				if _, err := s.Delete(c, own.ID, time.Now().Add(time.Hour)); err != nil {
					t.Errorf("worker %d: Delete: %v", w, err)
					return
				}
				if _, err := s.Get(c, own.ID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("worker %d: Get after Delete = %v, want ErrNotFound", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	wantNotFound(t, s, shared.ID)
	for w := range 5 {
		wantList(t, s, fmt.Sprintf("u|w%d", w))
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping = %v, want nil", err)
	}
}
