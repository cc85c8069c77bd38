package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/session/redisstore"
)

// TestWatchSeesOtherInstancesWrites: a Create or Delete through one Store is
// announced to a Watch on another Store sharing the server and prefix, and
// the feed reports going down with Redis and coming back with it.
func TestWatchSeesOtherInstancesWrites(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newStore(t, srv, nil), newStore(t, srv, nil)
	got := make(chan string, 4)
	health := make(chan bool, 16)
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Watch(wctx, func(id string) { got <- id }, func(ok bool) { health <- ok })
	wantHealth := func(want bool) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case ok := <-health:
				if ok == want {
					return
				}
			case <-deadline:
				t.Fatalf("the feed never reported healthy=%v", want)
			}
		}
	}
	wantHealth(true)
	rec := record("u1", time.Hour)
	mustCreate(t, a, rec)
	mustDelete(t, a, rec.ID)
	// A Delete is announced on both channels (the plain one for instances of
	// earlier versions): duplicates are fine, a missing id is not.
	wantID := func(what, want string) {
		t.Helper()
		deadline := time.After(3 * time.Second)
		for {
			select {
			case id := <-got:
				if id == want {
					return
				}
			case <-deadline:
				t.Fatalf("%s of %s was not announced", what, want[:8])
			}
		}
	}
	wantID("create", rec.ID)
	wantID("delete", rec.ID)
	srv.Stop()
	wantHealth(false)
	srv.Restart()
	wantHealth(true)
	a2 := newStore(t, srv, nil)
	rec2 := record("u2", time.Hour)
	mustCreate(t, a2, rec2)
	wantID("create after the restart", rec2.ID)
}

// TestFeedLease: the lease of WatchLeased holds while Redis answers, lapses
// within about FeedLease once it hangs (SIGSTOP) without any error, and holds
// again once it answers.
func TestFeedLease(t *testing.T) {
	srv := redistest.Start(t)
	const lease = 200 * time.Millisecond
	s := newStore(t, srv, func(o *redisstore.Options) { o.FeedLease = lease })
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	current := s.WatchLeased(wctx, func(string) {}, func(bool) {})
	waitCurrent := func(want bool, within time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		for current() != want {
			if time.Since(start) > within {
				t.Fatalf("current() still %v after %v", !want, within)
			}
			time.Sleep(5 * time.Millisecond)
		}
		return time.Since(start)
	}
	waitCurrent(true, 3*time.Second)
	time.Sleep(3 * lease) // renewed, not a one-off
	if !current() {
		t.Fatal("the lease lapsed although Redis answers")
	}
	srv.SigStop()
	took := waitCurrent(false, 2*lease)
	t.Logf("lease lapsed %v after SIGSTOP", took.Round(time.Millisecond))
	srv.SigCont()
	waitCurrent(true, 3*time.Second)
}
