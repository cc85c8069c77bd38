package memstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/session"
)

func canonicalID(i int) string {
	h := sha256.Sum256([]byte(fmt.Sprint("id", i)))
	return hex.EncodeToString(h[:])
}

func sealedFor(id string, version int64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = id[i%len(id)] ^ byte(version) ^ byte(i)
	}
	return b
}

// TestChurnMatchesAModel saves, overwrites, deletes and lists at random with
// records of every size class (tiny, typical, larger than a quarter chunk)
// and checks every answer against a plain map, and that the arena stays
// within about twice the live bytes once compaction has run.
func TestChurnMatchesAModel(t *testing.T) {
	s := New(Options{CleanupInterval: -1})
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	exp := time.Now().Add(time.Hour)
	model := map[string]*session.Record{}
	ids := make([]string, 3000)
	for i := range ids {
		ids[i] = canonicalID(i)
		if i%10 == 0 {
			ids[i] = fmt.Sprintf("other-%d", i) // not a canonical id: the hashed key kind
		}
	}
	size := func() int {
		switch r := rng.IntN(100); {
		case r < 2:
			return chunkSize/4 + rng.IntN(chunkSize) // a chunk of its own
		case r < 20:
			return rng.IntN(64)
		default:
			return 2000 + rng.IntN(2000)
		}
	}
	for step := 0; step < 40000; step++ {
		id := ids[rng.IntN(len(ids))]
		switch op := rng.IntN(10); {
		case op < 6:
			v := int64(step)
			r := &session.Record{ID: id, UserKey: fmt.Sprintf("p|u%d", rng.IntN(50)), Expires: exp, Version: v,
				Created: exp.Add(-time.Hour), LastSeen: exp.Add(-time.Minute), Sealed: sealedFor(id, v, size())}
			if rng.IntN(3) == 0 {
				r.SID = fmt.Sprintf("sid%d", rng.IntN(20))
			}
			if err := put(s, r); err != nil {
				t.Fatal(err)
			}
			model[id] = r
		case op < 8:
			if _, err := s.Delete(ctx, id, time.Time{}); err != nil {
				t.Fatal(err)
			}
			delete(model, id)
		default:
			got, err := s.Get(ctx, id)
			want := model[id]
			if want == nil {
				if err == nil {
					t.Fatalf("step %d: Get(%s) found a deleted record", step, id)
				}
				continue
			}
			if err != nil {
				t.Fatalf("step %d: Get(%s) = %v", step, id, err)
			}
			if got.ID != id || got.Version != want.Version || got.UserKey != want.UserKey || got.SID != want.SID ||
				!got.Expires.Equal(want.Expires) || !bytes.Equal(got.Sealed, want.Sealed) {
				t.Fatalf("step %d: Get(%s) = v%d %q, want v%d %q", step, id, got.Version, got.UserKey, want.Version, want.UserKey)
			}
		}
	}
	if s.Len() != len(model) {
		t.Fatalf("Len = %d, model has %d", s.Len(), len(model))
	}
	liveBytes := 0
	users, sids := map[string]int{}, map[string]int{}
	for _, r := range model {
		got, err := s.Get(ctx, r.ID)
		if err != nil || !bytes.Equal(got.Sealed, r.Sealed) {
			t.Fatalf("Get(%s) at the end = %v (sealed equal %v)", r.ID, err, err == nil && bytes.Equal(got.Sealed, r.Sealed))
		}
		liveBytes += len(payload(r)) + entryHeader
		users[r.UserKey]++
		if r.SID != "" {
			sids[r.SIDKey()]++
		}
	}
	for u, n := range users {
		list, err := s.ListByUser(ctx, u)
		if err != nil || len(list) != n {
			t.Fatalf("ListByUser(%s) = %d records, %v; want %d", u, len(list), err, n)
		}
		for _, r := range list {
			if model[r.ID] == nil || model[r.ID].UserKey != u || !bytes.Equal(model[r.ID].Sealed, r.Sealed) {
				t.Fatalf("ListByUser(%s) returned %s, not in the model as that user's", u, r.ID)
			}
		}
	}
	for k, n := range sids {
		list, err := s.ListBySID(ctx, k)
		if err != nil || len(list) != n {
			t.Fatalf("ListBySID(%s) = %d records, %v; want %d", k, len(list), err, n)
		}
	}
	// Twice the live bytes, plus the chunk being filled and the slack at
	// the end of each big record's own chunk.
	if limit := 2*liveBytes + 2*chunkSize + 4096*len(model); s.arena.bytes > limit {
		t.Fatalf("arena holds %d bytes for %d live bytes (limit %d): compaction did not run", s.arena.bytes, liveBytes, limit)
	}
	for _, r := range model {
		if _, err := s.Delete(ctx, r.ID, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if s.arena.bytes > chunkSize {
		t.Fatalf("arena holds %d bytes with no record left, want at most the current chunk", s.arena.bytes)
	}
	for u := range users {
		if list, _ := s.ListByUser(ctx, u); len(list) != 0 {
			t.Fatalf("ListByUser(%s) after deleting all = %d records", u, len(list))
		}
	}
	if len(s.heads[byUser]) != 0 || len(s.heads[bySID]) != 0 || len(s.ids) != 0 {
		t.Fatalf("tables not empty: %d user lists, %d sid lists, %d ids", len(s.heads[byUser]), len(s.heads[bySID]), len(s.ids))
	}
}

// TestRecordsAreOutsideTheGoHeap is why the store exists: 20,000 sessions of
// ~3 kB grow the Go heap by the tables only (~150 B a session), not by 60 MB.
func TestRecordsAreOutsideTheGoHeap(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no mmap: the records are pointer-free Go slices there")
	}
	s := New(Options{CleanupInterval: -1})
	t.Cleanup(func() { _ = s.Close() })
	exp := time.Now().Add(time.Hour)
	sealed := make([]byte, 3000)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	const n = 20000
	for i := range n {
		id := canonicalID(i)
		if err := put(s, &session.Record{ID: id, UserKey: "cognito|" + id[:36], SID: id[:20], Expires: exp, Sealed: sealed}); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	grew := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
	if grew > 20<<20 {
		t.Fatalf("the Go heap grew by %d MiB for %d sessions of 3 kB (arena %d MiB): records are on the heap", grew>>20, n, s.arena.bytes>>20)
	}
	if s.arena.bytes < n*3000 {
		t.Fatalf("arena holds %d bytes for %d sessions of 3 kB", s.arena.bytes, n)
	}
	t.Logf("Go heap +%.1f MiB, arena %d MiB for %d sessions", float64(grew)/(1<<20), s.arena.bytes>>20, n)
}

func TestKeyKinds(t *testing.T) {
	c := canonicalID(1)
	if k := keyOf(c); k[0] != 0 {
		t.Fatalf("canonical id got key kind %d", k[0])
	}
	upper := []byte(c)
	for i, b := range upper {
		if b >= 'a' && b <= 'f' {
			upper[i] = b - 'a' + 'A'
		}
	}
	if keyOf(string(upper)) == keyOf(c) {
		t.Fatal("an upper-case spelling of an id maps to the same key as the id")
	}
	if keyOf("a") == keyOf("b") || keyOf("a") != keyOf("a") {
		t.Fatal("non-canonical ids are not told apart")
	}
}

// TestCompactionReclaimsHalfFreedChunks: deleting two of every three records
// leaves each full chunk two-thirds dead; compaction moves the rest, so the
// arena ends near the live bytes instead of keeping every chunk.
func TestCompactionReclaimsHalfFreedChunks(t *testing.T) {
	s := New(Options{CleanupInterval: -1})
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	const n = 3000
	for i := range n {
		id := canonicalID(i)
		if err := put(s, &session.Record{ID: id, UserKey: "u|1", Expires: exp, Sealed: sealedFor(id, 1, 3000)}); err != nil {
			t.Fatal(err)
		}
	}
	full := s.arena.bytes
	live := 0
	for i := range n {
		id := canonicalID(i)
		if i%3 != 0 {
			if _, err := s.Delete(ctx, id, time.Time{}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		live += len(payload(&session.Record{ID: id, UserKey: "u|1", Expires: exp, Sealed: make([]byte, 3000)})) + entryHeader
	}
	if s.arena.bytes > live+3*chunkSize { // the current chunk, the one compaction fills, one partly dead
		t.Fatalf("arena holds %d bytes (%d before the deletes) for %d live bytes: half-freed chunks were kept", s.arena.bytes, full, live)
	}
	for i := 0; i < n; i += 3 {
		id := canonicalID(i)
		r, err := s.Get(ctx, id)
		if err != nil || !bytes.Equal(r.Sealed, sealedFor(id, 1, 3000)) {
			t.Fatalf("record %d after compaction: %v", i, err)
		}
	}
	if list, err := s.ListByUser(ctx, "u|1"); err != nil || len(list) != n/3 {
		t.Fatalf("ListByUser after compaction = %d, %v; want %d", len(list), err, n/3)
	}
}

// put stores rec whatever the store holds for its id (tombstones
// included): these tests churn the arena, not the Store contract.
func put(s *Store, rec *session.Record) error {
	p := payload(rec)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tombs, keyOf(rec.ID))
	return s.writeLocked(keyOf(rec.ID), rec, p)
}
