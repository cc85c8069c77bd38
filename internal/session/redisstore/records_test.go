package redisstore_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/redisstore"
)

// TestStaleUpdateFromAnotherInstance (issue 19): two processes read the
// session at the same version; the one that writes second is refused, and
// once a third ends the session neither can write it back.
func TestStaleUpdateFromAnotherInstance(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newStore(t, srv, nil), newStore(t, srv, nil)
	c := ctx(t)
	rec := record("u|cas", time.Hour)
	mustCreate(t, a, rec)
	readA, err := a.Get(c, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	readB, err := b.Get(c, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	readA.Version++
	readA.Sealed = []byte("a's refresh")
	if err := a.Update(c, readA, rec.Version); err != nil {
		t.Fatalf("first Update: %v", err)
	}
	readB.Version++
	readB.Sealed = []byte("b's refresh")
	if err := b.Update(c, readB, rec.Version); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("B's Update from the version A replaced = %v, want ErrConflict", err)
	}
	if got, err := b.Get(c, rec.ID); err != nil || string(got.Sealed) != "a's refresh" {
		t.Fatalf("after the refused Update: %v, %v; want A's write", got, err)
	}

	// B ends it while A's next refresh is in flight: A's write is refused.
	ended, err := b.Delete(c, rec.ID, time.Now().Add(time.Hour))
	if err != nil || ended == nil || ended.Version != readA.Version {
		t.Fatalf("Delete = %v, %v; want the record at v%d", ended, err, readA.Version)
	}
	late := *readA
	late.Version++
	if err := a.Update(c, &late, readA.Version); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("A's Update after B's Delete = %v, want ErrNotFound", err)
	}
	if err := a.Create(c, &late); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("A's Create after B's Delete = %v, want ErrConflict", err)
	}
	if _, err := a.Get(c, rec.ID); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
}

// TestRecordsOfEarlierReleasesStayUsable: a record written by the previous
// release (binary, codec v1) and one in the older JSON form load, are
// updated from their version only, and end like any other: no mass
// sign-out on upgrade.
func TestRecordsOfEarlierReleasesStayUsable(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, srv, nil)
	c, rdb := ctx(t), s.Client()
	bin, js := record("u|old", time.Hour), record("u|old", time.Hour)
	bin.Version, js.Version = 41, 7
	b, err := redisstore.EncodeRecord(bin) // no Revoke: the v1 form the previous release wrote
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(js)
	if err != nil {
		t.Fatal(err)
	}
	for id, v := range map[string][]byte{bin.ID: b, js.ID: j} {
		if err := rdb.Set(c, srv.Prefix+"s:"+id, v, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, rec := range []*session.Record{bin, js} {
		if _, err := s.Get(c, rec.ID); err != nil {
			t.Fatalf("Get of an old record: %v", err)
		}
		next := *rec
		next.Version++
		next.Revoke = []byte("sealed refresh token") // written back in codec v2
		if err := s.Update(c, &next, rec.Version-1); !errors.Is(err, session.ErrConflict) {
			t.Fatalf("Update of an old record from another version = %v, want ErrConflict", err)
		}
		if err := s.Update(c, &next, rec.Version); err != nil {
			t.Fatalf("Update of an old record from its version: %v", err)
		}
		got, err := s.Get(c, rec.ID)
		if err != nil || got.Version != next.Version || string(got.Revoke) != "sealed refresh token" {
			t.Fatalf("after the Update: %+v, %v", got, err)
		}
	}
	// An old JSON record ends with its own expiry as the tombstone's floor.
	other := record("u|old", 2*time.Hour)
	other.Version = 3
	j, _ = json.Marshal(other)
	if err := rdb.Set(c, srv.Prefix+"s:"+other.ID, j, 2*time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	ended, err := s.Delete(c, other.ID, time.Now())
	if err != nil || ended == nil || ended.Version != 3 {
		t.Fatalf("Delete of an old JSON record = %+v, %v", ended, err)
	}
	if ttl := rdb.PTTL(c, srv.Prefix+"s:"+other.ID).Val(); ttl < 2*time.Hour-time.Minute {
		t.Errorf("tombstone of an old JSON record expires in %v, want about 2h", ttl)
	}
	if err := s.Create(c, other); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Create over the tombstone = %v, want ErrConflict", err)
	}
}

// TestVersionCompareIsExact: the script's comparison holds for versions
// that a float would round (2^53 + 1) and for negative ones.
func TestVersionCompareIsExact(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, srv, nil)
	c := ctx(t)
	for _, v := range []int64{0, -5, 1 << 40, 1<<53 + 1, 1<<62 + 3} {
		rec := record("u|ver", time.Hour)
		rec.Version = v
		mustCreate(t, s, rec)
		next := *rec
		next.Version = v + 1
		if err := s.Update(c, &next, v-1); !errors.Is(err, session.ErrConflict) {
			t.Fatalf("v%d: Update from v%d = %v, want ErrConflict", v, v-1, err)
		}
		if err := s.Update(c, &next, v+1); !errors.Is(err, session.ErrConflict) {
			t.Fatalf("v%d: Update from v%d = %v, want ErrConflict", v, v+1, err)
		}
		if err := s.Update(c, &next, v); err != nil {
			t.Fatalf("v%d: Update from v%d: %v", v, v, err)
		}
	}
}
