package redisstore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/redistest"
)

func TestLockExclusive(t *testing.T) {
	srv := redistest.Start(t)
	// Two stores: two authbff instances sharing one Redis.
	a, b := newStore(t, srv, nil), newStore(t, srv, nil)
	c := ctx(t)

	const lockers = 20
	var won atomic.Int32
	var wg sync.WaitGroup
	unlocks := make(chan func(), lockers)
	for i := range lockers {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			unlock, ok, err := s.Lock(c, "refresh:1", 10*time.Second)
			if err != nil {
				t.Errorf("Lock: %v", err)
				return
			}
			if ok {
				won.Add(1)
				unlocks <- unlock
			}
		})
	}
	wg.Wait()
	if n := won.Load(); n != 1 {
		t.Fatalf("%d of %d concurrent lockers got the lock, want 1", n, lockers)
	}
	(<-unlocks)()
	unlock, ok, err := b.Lock(c, "refresh:1", time.Second)
	if err != nil || !ok {
		t.Fatalf("Lock after unlock = %v, %v; want taken", ok, err)
	}
	unlock()
	unlock() // idempotent

	// Different names do not conflict.
	u1, ok1, _ := a.Lock(c, "n1", time.Second)
	u2, ok2, _ := a.Lock(c, "n2", time.Second)
	defer u1()
	defer u2()
	if !ok1 || !ok2 {
		t.Fatalf("locks on different names: %v %v, want both taken", ok1, ok2)
	}
}

func TestLockStaleUnlock(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, srv, nil)
	c := ctx(t)

	stale, ok, err := s.Lock(c, "r", 100*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("Lock = %v, %v", ok, err)
	}
	time.Sleep(250 * time.Millisecond) // the first holder's ttl runs out
	fresh, ok, err := s.Lock(c, "r", 10*time.Second)
	if err != nil || !ok {
		t.Fatalf("Lock after expiry = %v, %v; want taken", ok, err)
	}
	stale() // must not release the newer holder's lock
	if _, ok, _ := s.Lock(c, "r", time.Second); ok {
		t.Fatal("a stale holder's unlock released the newer lock")
	}
	fresh()
	if _, ok, _ := s.Lock(c, "r", time.Second); !ok {
		t.Fatal("the holder's own unlock did not release the lock")
	}
}

func TestWaitUnlocked(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, srv, nil)
	c := ctx(t)

	if err := s.WaitUnlocked(c, "free", 10*time.Millisecond); err != nil {
		t.Fatalf("WaitUnlocked(free) = %v", err)
	}

	unlock, ok, err := s.Lock(c, "held", 10*time.Second)
	if err != nil || !ok {
		t.Fatalf("Lock = %v, %v", ok, err)
	}
	short, cancel := context.WithTimeout(c, 150*time.Millisecond)
	defer cancel()
	if err := s.WaitUnlocked(short, "held", 10*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitUnlocked(held) = %v, want DeadlineExceeded", err)
	}

	released := make(chan time.Time, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		released <- time.Now()
		unlock()
	}()
	if err := s.WaitUnlocked(c, "held", 10*time.Millisecond); err != nil {
		t.Fatalf("WaitUnlocked while released = %v", err)
	}
	returned := time.Now()
	if at := <-released; returned.Before(at) {
		t.Fatalf("WaitUnlocked returned %v before the lock was released", at.Sub(returned))
	}

	// A holder that never unlocks frees the lock at its ttl.
	if _, ok, _ := s.Lock(c, "ttl", 200*time.Millisecond); !ok {
		t.Fatal("Lock(ttl) not taken")
	}
	start := time.Now()
	if err := s.WaitUnlocked(c, "ttl", 10*time.Millisecond); err != nil {
		t.Fatalf("WaitUnlocked(ttl) = %v", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("WaitUnlocked returned after %v, before the ttl ran out", d)
	}
}

func TestLockInvalid(t *testing.T) {
	s := newStore(t, redistest.Start(t), nil)
	for _, ttl := range []time.Duration{0, -time.Second} {
		unlock, ok, err := s.Lock(ctx(t), "x", ttl)
		if err == nil || ok || unlock == nil {
			t.Errorf("Lock(ttl %v) = %v, %v; want an error and a non-nil unlock", ttl, ok, err)
		}
	}
}
