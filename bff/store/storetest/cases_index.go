package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/bff/store"
)

// withSID returns a record for userKey with the IdP session id sid.
func withSID(t *testing.T, userKey, sid string) *store.Record {
	t.Helper()
	r := newRecord(t, userKey)
	r.SID = sid
	return r
}

func testListBySID(t *testing.T, s store.Store) {
	a1 := withSID(t, "cognito|alice", "idp-1")
	a2 := withSID(t, "cognito|alice", "idp-1") // a second app session of one IdP session
	a3 := withSID(t, "cognito|alice", "idp-2") // the same user, another IdP session
	b1 := withSID(t, "cognito|bob", "idp-3")
	g1 := withSID(t, "google|alice", "idp-1") // another provider, the same sid string
	pipe := withSID(t, "auth0|auth0|carol", "idp-1")
	nul := withSID(t, "cognito|dave", "idp-1\x00x") // SIDKey("cognito","idp-1") is a prefix of its key
	none := withSID(t, "cognito|alice", "")
	for _, r := range []*store.Record{a1, a2, a3, b1, g1, pipe, nul, none} {
		mustCreate(t, s, r)
	}
	wantSIDList(t, s, store.SIDKey("cognito", "idp-1"), a1, a2)
	wantSIDList(t, s, store.SIDKey("cognito", "idp-2"), a3)
	wantSIDList(t, s, store.SIDKey("cognito", "idp-3"), b1)
	wantSIDList(t, s, store.SIDKey("google", "idp-1"), g1)
	wantSIDList(t, s, store.SIDKey("auth0", "idp-1"), pipe)
	wantSIDList(t, s, store.SIDKey("cognito", "idp-1\x00x"), nul)
	wantSIDList(t, s, store.SIDKey("cognito", "nope"))
	wantSIDList(t, s, store.SIDKey("cognito", ""))
	wantSIDList(t, s, "")
	wantList(t, s, "cognito|alice", a1, a2, a3, none)

	// Delete, replacement with another sid and expiry all update the index.
	mustDelete(t, s, a1.ID)
	wantSIDList(t, s, store.SIDKey("cognito", "idp-1"), a2)
	moved := *a2
	moved.SID = "idp-2"
	moved.Version = a2.Version + 1
	mustUpdate(t, s, &moved, a2.Version)
	wantSIDList(t, s, store.SIDKey("cognito", "idp-1"))
	wantSIDList(t, s, store.SIDKey("cognito", "idp-2"), a3, &moved)
	mustDelete(t, s, a3.ID)
	wantSIDList(t, s, store.SIDKey("cognito", "idp-2"), &moved)
	dropped := moved
	dropped.SID = ""
	dropped.Version = moved.Version + 1
	mustUpdate(t, s, &dropped, moved.Version)
	wantSIDList(t, s, store.SIDKey("cognito", "idp-2"))

	// Listed records are copies.
	list, err := s.ListBySID(ctx(t), store.SIDKey("cognito", "idp-3"))
	if err != nil || len(list) != 1 {
		t.Fatalf("ListBySID = %d records, %v; want 1", len(list), err)
	}
	list[0].Sealed[0] ^= 0xff
	list[0].SID = "mutated"
	wantSIDList(t, s, store.SIDKey("cognito", "idp-3"), b1)
}

func testMarkUsed(t *testing.T, s store.Store) {
	c := ctx(t)
	mark := func(key string, exp time.Time) bool {
		t.Helper()
		seen, err := s.MarkUsed(c, key, exp)
		if err != nil {
			t.Fatalf("MarkUsed(%q): %v", key, err)
		}
		return seen
	}
	later := time.Now().Add(time.Hour)
	if mark("flow:a", later) {
		t.Fatal("first MarkUsed(flow:a) = seen, want not seen")
	}
	if !mark("flow:a", later) || !mark("flow:a", later.Add(time.Hour)) {
		t.Fatal("MarkUsed(flow:a) again = not seen, want seen")
	}
	if mark("flow:b", later) {
		t.Fatal("MarkUsed(flow:b) = seen after only flow:a was marked")
	}

	// An expiry not in the future records nothing.
	if mark("flow:past", time.Now().Add(-time.Second)) || mark("flow:past", later) {
		t.Fatal("a marker with a past expiry was recorded")
	}

	// Unmark lets the key through once more; unmarking a missing key is fine.
	if err := s.UnmarkUsed(c, "flow:a"); err != nil {
		t.Fatalf("UnmarkUsed: %v", err)
	}
	if mark("flow:a", later) || !mark("flow:a", later) {
		t.Fatal("after UnmarkUsed, MarkUsed(flow:a) did not start over")
	}
	if err := s.UnmarkUsed(c, "never-marked"); err != nil {
		t.Fatalf("UnmarkUsed(missing) = %v, want nil", err)
	}

	// Markers and records are apart: neither sees the other.
	rec := newRecord(t, "u|mark")
	mustCreate(t, s, rec)
	if mark(rec.ID, later) {
		t.Fatal("MarkUsed(a record id) = seen: markers share the records' key space")
	}
	AssertEqual(t, mustGet(t, s, rec.ID), rec)
	wantNotFound(t, s, "flow:a")
	wantList(t, s, "u|mark", rec)
	wantList(t, s, "")
	mustDelete(t, s, rec.ID)
	if !mark(rec.ID, later) {
		t.Fatal("deleting a record removed the marker with the same key")
	}

	if _, err := s.MarkUsed(c, "", later); err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("MarkUsed(\"\") = %v, want an error that is not ErrUnavailable", err)
	}
}

func testMarkUsedConcurrent(t *testing.T, s store.Store) {
	const workers, keys = 20, 5
	c := ctx(t)
	exp := time.Now().Add(time.Hour)
	var mu sync.Mutex
	first := make(map[string]int)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range keys {
				key := fmt.Sprintf("jti-%d", k)
				seen, err := s.MarkUsed(c, key, exp)
				if err != nil {
					t.Errorf("worker %d: MarkUsed: %v", w, err)
					return
				}
				if !seen {
					mu.Lock()
					first[key]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for k := range keys {
		if n := first[fmt.Sprintf("jti-%d", k)]; n != 1 {
			t.Errorf("jti-%d: %d of %d concurrent MarkUsed saw it unused, want exactly 1", k, n, workers)
		}
	}
}

// wantSIDList checks that ListBySID(sidKey) returns exactly want (any order).
func wantSIDList(t *testing.T, s store.Store, sidKey string, want ...*store.Record) {
	t.Helper()
	got, err := s.ListBySID(ctx(t), sidKey)
	if err != nil {
		t.Fatalf("ListBySID(%q): %v", sidKey, err)
	}
	g, w := ids(got), ids(want)
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Fatalf("ListBySID(%q) ids = %v, want %v", sidKey, g, w)
	}
	byID := make(map[string]*store.Record, len(want))
	for _, r := range want {
		byID[r.ID] = r
	}
	for _, r := range got {
		AssertEqual(t, r, byID[r.ID])
	}
}
