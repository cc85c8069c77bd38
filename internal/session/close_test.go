package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/leakcheck"
	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/redisstore"
)

// TestCloseWaitsForTheWatch: a Manager with a cache over a Redis store the
// caller owns has, once Close returns, no goroutine of its watch left
// (subscriptions, presence, acknowledgements), although the store stays
// open; closing the store then leaves no goroutine of authbff at all.
func TestCloseWaitsForTheWatch(t *testing.T) {
	srv := redistest.Start(t)
	before := leakcheck.Take()
	st, err := redisstore.New(redisstore.Options{URL: srv.URL, Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := session.NewManager(session.ManagerOptions{Store: st, Secrets: [][]byte{secret(1)}, CacheTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, _, err := m.Create(ctx, sampleData(), session.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	// Once the cache serves, the watch is live and current: the Delete
	// below is acknowledged by it.
	deadline := time.Now().Add(10 * time.Second)
	for hits, _ := m.CacheStats(); hits == 0; hits, _ = m.CacheStats() {
		if time.Now().After(deadline) {
			t.Fatal("the cache never served: the watch did not become current")
		}
		if _, err := m.Load(ctx, tok); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := m.Delete(ctx, tok); err != nil {
		t.Fatal(err)
	}
	m.Close()
	leakcheck.Check(t, before, 2*time.Second, leakcheck.RedisWatch...)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	leakcheck.Check(t, before, 2*time.Second)
}
