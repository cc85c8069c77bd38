package redisstore_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/redisstore"
)

// TestSIDIndexAndMarkerKeys checks the documented i: and m: keys and their
// expiry, and that deleting the sessions removes the sid index.
func TestSIDIndexAndMarkerKeys(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, srv, nil)
	c, rdb := ctx(t), s.Client()

	short, long := record("cognito|alice", time.Hour), record("cognito|alice", 3*time.Hour)
	short.SID, long.SID = "idp-1", "idp-1"
	mustCreate(t, s, short)
	mustCreate(t, s, long)
	markExp := time.Now().Add(10 * time.Minute)
	if seen, err := s.MarkUsed(c, "flow:x", markExp); seen || err != nil {
		t.Fatalf("MarkUsed = %v, %v", seen, err)
	}

	iKey := srv.Prefix + "i:" + session.SIDKey("cognito", "idp-1")
	mKey := srv.Prefix + "m:flow:x"
	var keys []string
	iter := rdb.Scan(c, 0, srv.Prefix+"*", 100).Iterator()
	for iter.Next(c) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	want := []string{srv.Prefix + "s:" + short.ID, srv.Prefix + "s:" + long.ID, srv.Prefix + "u:cognito|alice", iKey, mKey}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("keys = %q, want %q", keys, want)
	}
	for key, at := range map[string]time.Time{iKey: long.Expires, mKey: markExp} {
		got, err := rdb.PTTL(c, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if d := got - time.Until(at); d < -2*time.Second || d > time.Second {
			t.Errorf("PTTL(%s) = %v, want about %v", key, got, time.Until(at))
		}
	}
	for _, r := range []*session.Record{short, long} {
		mustDelete(t, s, r.ID)
	}
	if n := rdb.Exists(c, iKey).Val(); n != 0 {
		t.Error("sid index left after deleting its sessions")
	}
}

// TestMarkUsedAcrossInstances checks that two stores on one Redis let
// exactly one of concurrent first uses through.
func TestMarkUsedAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	stores := []*redisstore.Store{newStore(t, srv, nil), newStore(t, srv, nil)}
	c := ctx(t)
	exp := time.Now().Add(time.Hour)
	var mu sync.Mutex
	fresh := 0
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen, err := stores[i%2].MarkUsed(c, "jti", exp)
			if err != nil {
				t.Errorf("MarkUsed: %v", err)
				return
			}
			if !seen {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if fresh != 1 {
		t.Fatalf("%d of 20 concurrent MarkUsed on two instances saw the key unused, want 1", fresh)
	}
}

// TestSIDAndMarkerOutage checks the new operations report a Redis outage as
// ErrUnavailable, never as "not found" or "not seen".
func TestSIDAndMarkerOutage(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, srv, func(o *redisstore.Options) {
		o.DialTimeout = 200 * time.Millisecond
		o.ReadTimeout = 200 * time.Millisecond
		o.MaxRetries = -1
	})
	c := ctx(t)
	srv.Stop()
	ops := []struct {
		name string
		call func() error
	}{
		{"ListBySID", func() error { _, err := s.ListBySID(c, session.SIDKey("p", "sid")); return err }},
		{"MarkUsed", func() error { _, err := s.MarkUsed(c, "k", time.Now().Add(time.Hour)); return err }},
		{"MarkUsed past", func() error { _, err := s.MarkUsed(c, "k", time.Now().Add(-time.Hour)); return err }},
		{"UnmarkUsed", func() error { return s.UnmarkUsed(c, "k") }},
	}
	for _, op := range ops {
		if err := op.call(); !errors.Is(err, session.ErrUnavailable) {
			t.Errorf("%s while Redis is down = %v, want ErrUnavailable", op.name, err)
		}
	}
}
