package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbff/authbff/bff/store"
)

// The cases of the interfaces a store several processes share implements:
// the change feed (Watcher, LeasedWatcher) and the lock (Locker). One
// store stands for every process: its own writes must be reported too.

// waitFor polls cond until it holds or d passes, then fails t naming what.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testWatch(t *testing.T, s store.Store) {
	w, ok := s.(store.Watcher)
	if !ok {
		t.Skipf("%T does not implement store.Watcher (a store one process owns)", s)
	}
	c, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // before the store's own cleanup closes it
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		live atomic.Bool
	)
	changed := func(id string) { mu.Lock(); seen[id]++; mu.Unlock() }
	count := func(id string) int { mu.Lock(); defer mu.Unlock(); return seen[id] }
	current := func() bool { return true }
	lw, leased := s.(store.LeasedWatcher)
	if leased {
		current = lw.WatchLeased(c, changed, live.Store)
	} else {
		w.Watch(c, changed, live.Store)
	}
	waitFor(t, 10*time.Second, "the feed to report itself live (and current)", func() bool { return live.Load() && current() })

	rec := newRecord(t, "u|watch")
	mustCreate(t, s, rec)
	waitFor(t, 5*time.Second, "Create to be reported", func() bool { return count(rec.ID) >= 1 })
	n := count(rec.ID)
	next := *rec
	next.Version = rec.Version + 1
	mustUpdate(t, s, &next, rec.Version)
	waitFor(t, 5*time.Second, "Update to be reported", func() bool { return count(rec.ID) > n })
	n = count(rec.ID)
	mustDelete(t, s, rec.ID)
	if leased && current() && count(rec.ID) == n {
		t.Fatal("Delete returned while the lease was current but the end was not yet passed to changed")
	}
	waitFor(t, 5*time.Second, "Delete to be reported", func() bool { return count(rec.ID) > n })

	// A WatchWaiter's watch stops once its ctx ended: WaitWatch returns,
	// and later writes are reported no more.
	ww, ok := s.(store.WatchWaiter)
	if !ok {
		return
	}
	cancel()
	done := make(chan struct{})
	go func() { ww.WaitWatch(c); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("WaitWatch did not return within 5s of its ctx ending")
	}
	after := newRecord(t, "u|watch")
	mustCreate(t, s, after)
	time.Sleep(100 * time.Millisecond)
	if count(after.ID) != 0 {
		t.Fatal("a write was reported after WaitWatch returned")
	}
}

func testLock(t *testing.T, s store.Store) {
	l, ok := s.(store.Locker)
	if !ok {
		t.Skipf("%T does not implement store.Locker (a store one process owns)", s)
	}
	lock := func(name string, ttl time.Duration) (func(), bool) {
		t.Helper()
		unlock, ok, err := l.Lock(ctx(t), name, ttl)
		if err != nil || unlock == nil {
			t.Fatalf("Lock(%s) = unlock %v, %v, %v", name, unlock != nil, ok, err)
		}
		return unlock, ok
	}
	name := "lock-" + uniqueID(t)
	unlock, ok := lock(name, 10*time.Second)
	if !ok {
		t.Fatal("Lock of a free name was not taken")
	}
	if _, ok := lock(name, 10*time.Second); ok {
		t.Fatal("Lock of a held name was taken a second time")
	}
	if _, ok := lock("other-"+name, 10*time.Second); !ok {
		t.Fatal("Lock of another name was refused")
	}

	// WaitUnlocked on a held lock ends with the caller's context.
	wctx, cancel := context.WithTimeout(ctx(t), 200*time.Millisecond)
	err := l.WaitUnlocked(wctx, name, 10*time.Millisecond)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("WaitUnlocked on a held lock = %v, want the context's deadline", err)
	}

	// Unlocked, it is free; unlock may be called again.
	unlock()
	unlock()
	if err := l.WaitUnlocked(ctx(t), name, 10*time.Millisecond); err != nil {
		t.Fatalf("WaitUnlocked on a free lock = %v", err)
	}
	again, ok := lock(name, 10*time.Second)
	if !ok {
		t.Fatal("Lock after unlock was refused")
	}
	again()

	// A lock ends at its ttl, and its holder's late unlock does not release
	// the lock another holder took since.
	short, ok := lock(name, 300*time.Millisecond)
	if !ok {
		t.Fatal("Lock was refused")
	}
	waitFor(t, 5*time.Second, "the lock to end at its ttl", func() bool {
		u, ok, err := l.Lock(ctx(t), name, 10*time.Second)
		if err != nil {
			t.Fatalf("Lock: %v", err)
		}
		if ok {
			t.Cleanup(u)
		}
		return ok
	})
	short()
	if _, ok := lock(name, 10*time.Second); ok {
		t.Fatal("an expired holder's unlock released the lock another holder took")
	}

	if _, _, err := l.Lock(ctx(t), "", time.Second); err == nil {
		t.Fatal("Lock with an empty name = nil error")
	}
}
