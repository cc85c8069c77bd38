// Package storetest is the conformance suite of the store.Store contract:
// every built-in backend (memory, bolt, Redis) runs it, and so should a store
// written outside this module. Call Run from the store's tests with a
// constructor for fresh stores:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s := mystore.New()
//			t.Cleanup(func() { _ = s.Close() })
//			return s
//		})
//	}
//
// The optional interfaces a store implements are checked too: Purger
// (DeleteExpired), Watcher or LeasedWatcher (the change feed, its own
// writes included) with WatchWaiter (the watch stops with its ctx), Locker; on a store that does not implement one, its
// subtest is skipped.
//
// Precision: stores must keep Record times to at least the millisecond; the
// suite compares times after truncation to milliseconds. Expiry is checked in
// real time (the suite sleeps about 1.5 s once, and waits out a 300 ms lock),
// so stores must use the wall clock (or one that follows it) for expiry when
// run under Run. Run takes a few seconds on an in-memory store.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/authbff/authbff/bff/store"
)

// Run runs the conformance suite against stores made by newStore. Each
// subtest calls newStore once and gets a fresh, empty store; newStore must
// register any cleanup it needs (for example t.Cleanup(func() { s.Close() })):
// Run never calls Close. Subtests do not run in parallel.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"GetMissing", testGetMissing},
		{"RoundTrip", testRoundTrip},
		{"Replace", testReplace},
		{"Delete", testDelete},
		{"DeleteMissing", testDeleteMissing},
		{"ListByUser", testListByUser},
		{"ListBySID", testListBySID},
		{"MarkUsed", testMarkUsed},
		{"MarkUsedConcurrent", testMarkUsedConcurrent},
		{"WriteExpired", testWriteExpired},
		{"ExpiresInRealTime", testExpiresInRealTime},
		{"ReturnsCopies", testReturnsCopies},
		{"Concurrent", testConcurrent},
		{"Ping", testPing},
		{"CreateTaken", testCreateTaken},
		{"UpdateVersion", testUpdateVersion},
		{"UpdateMissing", testUpdateMissing},
		{"EndedIsFinal", testEndedIsFinal},
		{"TombstoneOutlivesRecord", testTombstoneOutlivesRecord},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"UpdateRacesDelete", testUpdateRacesDelete},
		{"DeleteExpired", testDeleteExpired},
		{"Watch", testWatch},
		{"Lock", testLock},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// uniqueID returns a random record id shaped like authbff's (hex SHA-256 of the cookie token).
func uniqueID(t *testing.T) string {
	t.Helper()
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// newRecord returns a record for userKey live for an hour.
func newRecord(t *testing.T, userKey string) *store.Record {
	t.Helper()
	now := time.Now()
	return &store.Record{
		ID:        uniqueID(t),
		UserKey:   userKey,
		SID:       "sid-" + userKey,
		Created:   now.Add(-time.Minute),
		LastSeen:  now,
		Expires:   now.Add(time.Hour),
		UserAgent: "Mozilla/5.0 (storetest)",
		Version:   3,
		Sealed:    []byte{0, 1, 2, 0xff, 'x', 0},
		Revoke:    []byte{9, 8, 7, 0, 0xfe},
	}
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// mustCreate creates rec or fails the test.
func mustCreate(t *testing.T, s store.Store, rec *store.Record) {
	t.Helper()
	if err := s.Create(ctx(t), rec); err != nil {
		t.Fatalf("Create(%s): %v", rec.ID[:8], err)
	}
}

// mustUpdate updates rec from version or fails the test.
func mustUpdate(t *testing.T, s store.Store, rec *store.Record, version int64) {
	t.Helper()
	if err := s.Update(ctx(t), rec, version); err != nil {
		t.Fatalf("Update(%s, v%d): %v", rec.ID[:8], version, err)
	}
}

// mustDelete ends id (a tombstone for an hour) and returns what Delete
// returned, or fails the test.
func mustDelete(t *testing.T, s store.Store, id string) *store.Record {
	t.Helper()
	got, err := s.Delete(ctx(t), id, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatalf("Delete(%s): %v", id[:8], err)
	}
	return got
}

// mustGet gets id or fails the test.
func mustGet(t *testing.T, s store.Store, id string) *store.Record {
	t.Helper()
	got, err := s.Get(ctx(t), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id[:8], err)
	}
	return got
}

// wantNotFound checks that Get(id) reports ErrNotFound and nothing else.
func wantNotFound(t *testing.T, s store.Store, id string) {
	t.Helper()
	got, err := s.Get(ctx(t), id)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%s) = %v, %v; want ErrNotFound", id[:8], got, err)
	}
	if errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Get(%s) error %v also matches ErrUnavailable", id[:8], err)
	}
}

// AssertEqual fails t unless got and want hold the same record, comparing
// times to the millisecond.
func AssertEqual(t *testing.T, got, want *store.Record) {
	t.Helper()
	if got == nil {
		t.Fatalf("got nil record, want %s", want.ID)
	}
	ms := func(x time.Time) time.Time { return x.Truncate(time.Millisecond) }
	checks := []struct {
		field string
		ok    bool
		g, w  any
	}{
		{"ID", got.ID == want.ID, got.ID, want.ID},
		{"UserKey", got.UserKey == want.UserKey, got.UserKey, want.UserKey},
		{"SID", got.SID == want.SID, got.SID, want.SID},
		{"UserAgent", got.UserAgent == want.UserAgent, got.UserAgent, want.UserAgent},
		{"Version", got.Version == want.Version, got.Version, want.Version},
		{"Sealed", bytes.Equal(got.Sealed, want.Sealed), got.Sealed, want.Sealed},
		{"Revoke", bytes.Equal(got.Revoke, want.Revoke), got.Revoke, want.Revoke},
		{"Created", ms(got.Created).Equal(ms(want.Created)), got.Created, want.Created},
		{"LastSeen", ms(got.LastSeen).Equal(ms(want.LastSeen)), got.LastSeen, want.LastSeen},
		{"Expires", ms(got.Expires).Equal(ms(want.Expires)), got.Expires, want.Expires},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("record %s: %s = %v, want %v", want.ID[:8], c.field, c.g, c.w)
		}
	}
}

// ids returns the sorted ids of recs.
func ids(recs []*store.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	sort.Strings(out)
	return out
}

// wantList checks that ListByUser(userKey) returns exactly want (any order).
func wantList(t *testing.T, s store.Store, userKey string, want ...*store.Record) {
	t.Helper()
	got, err := s.ListByUser(ctx(t), userKey)
	if err != nil {
		t.Fatalf("ListByUser(%q): %v", userKey, err)
	}
	g, w := ids(got), ids(want)
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Fatalf("ListByUser(%q) ids = %v, want %v", userKey, g, w)
	}
	byID := make(map[string]*store.Record, len(want))
	for _, r := range want {
		byID[r.ID] = r
	}
	for _, r := range got {
		AssertEqual(t, r, byID[r.ID])
	}
}
