package session_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
	"github.com/authbff/authbff/internal/testclock"
)

func newCachedManager(t *testing.T, ttl time.Duration) (*session.Manager, *countingStore, *clock) {
	t.Helper()
	clk := testclock.New(t0)
	st := memstore.New(memstore.Options{Now: clk.Now, CleanupInterval: -1})
	t.Cleanup(func() { _ = st.Close() })
	cs := &countingStore{Store: st}
	m, err := session.NewManager(session.ManagerOptions{
		Store: cs, Secrets: [][]byte{secret(1)}, Now: clk.Now, CacheTTL: ttl,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, cs, clk
}

func TestCacheServesRepeatedLoads(t *testing.T) {
	ctx := context.Background()
	m, cs, clk := newCachedManager(t, time.Second)
	tok, _ := mustCreate(t, m, sampleData())
	for i := 0; i < 5; i++ {
		s, err := m.Load(ctx, tok)
		if err != nil || s.Data.User.Name != "Alice" {
			t.Fatalf("load %d: %v", i, err)
		}
	}
	if n := cs.gets.Load(); n != 1 {
		t.Fatalf("5 loads read the store %d times, want 1", n)
	}
	// Past the TTL the store is read again.
	clk.Add(time.Second)
	if _, err := m.Load(ctx, tok); err != nil || cs.gets.Load() != 2 {
		t.Fatalf("after the TTL: %v, gets %d", err, cs.gets.Load())
	}
	// LoadFresh always reads the store.
	if _, err := m.LoadFresh(ctx, tok); err != nil || cs.gets.Load() != 3 {
		t.Fatalf("LoadFresh: %v, gets %d", err, cs.gets.Load())
	}
}

func TestCacheFollowsWritesThroughTheManager(t *testing.T) {
	ctx := context.Background()
	m, _, _ := newCachedManager(t, time.Hour)
	tok, _ := mustCreate(t, m, sampleData())
	s, _ := m.Load(ctx, tok)
	s.Data.Tokens.AccessToken = "new-access"
	if err := m.Save(ctx, tok, s); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Load(ctx, tok); got.Data.Tokens.AccessToken != "new-access" {
		t.Fatalf("after Save the cache served %q", got.Data.Tokens.AccessToken)
	}
	if err := m.Delete(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Load(ctx, tok); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("after Delete: %v", err)
	}
	tok2, s2 := mustCreate(t, m, sampleData())
	m.Load(ctx, tok2)
	if n, err := m.DeleteUser(ctx, s2.UserKey); err != nil || n != 1 {
		t.Fatalf("DeleteUser: %d %v", n, err)
	}
	if _, err := m.Load(ctx, tok2); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("after DeleteUser: %v", err)
	}
}

func TestCacheSeesOtherWritersAfterTTL(t *testing.T) {
	ctx := context.Background()
	m, cs, clk := newCachedManager(t, 500*time.Millisecond)
	tok, s := mustCreate(t, m, sampleData())
	m.Load(ctx, tok)
	// Another instance deletes it in the shared store.
	if _, err := cs.Store.Delete(ctx, s.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	clk.Add(499 * time.Millisecond)
	if _, err := m.Load(ctx, tok); err != nil {
		t.Fatalf("within the TTL the cached session is served: %v", err)
	}
	clk.Add(time.Millisecond)
	if _, err := m.Load(ctx, tok); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("after the TTL: %v, want ErrNotFound", err)
	}
}

func TestCacheJSONAndSlidingExpiry(t *testing.T) {
	ctx := context.Background()
	m, cs, clk := newCachedManager(t, 48*time.Hour)
	tok, _ := mustCreate(t, m, sampleData())
	s, js, err := m.LoadJSON(ctx, tok)
	if err != nil || js != nil {
		t.Fatalf("first LoadJSON: %v %q", err, js)
	}
	m.SetJSON(s, []byte(`{"v":1}`))
	if _, js, _ := m.LoadJSON(ctx, tok); string(js) != `{"v":1}` {
		t.Fatalf("cached JSON %q", js)
	}
	// When the expiry is due to slide, the cache steps aside so the store
	// is updated and the caller told (Extended).
	gets := cs.gets.Load()
	clk.Add(24 * time.Hour)
	s2, js2, err := m.LoadJSON(ctx, tok)
	if err != nil || !s2.Extended || js2 != nil || cs.gets.Load() == gets {
		t.Fatalf("due extension: err %v extended %v json %q", err, s2.Extended, js2)
	}
}

func TestCacheConcurrentLoadsAndSaves(t *testing.T) {
	ctx := context.Background()
	m, _, _ := newCachedManager(t, time.Hour)
	tok, _ := mustCreate(t, m, sampleData())
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				s, err := m.Load(ctx, tok)
				if err != nil {
					t.Error(err)
					return
				}
				if i == 0 && j%10 == 0 {
					s.Data.RefreshError = "x"
					if err := m.Save(ctx, tok, s); err != nil {
						t.Error(err)
					}
				}
			}
		}(i)
	}
	wg.Wait()
	fresh, _ := m.LoadFresh(ctx, tok)
	cached, _ := m.Load(ctx, tok)
	if fresh.Version != cached.Version {
		t.Fatalf("cache left at version %d, store at %d", cached.Version, fresh.Version)
	}
}

// fakeWatcher is a Store whose change feed the test drives.
type fakeWatcher struct {
	session.Store
	changed func(string)
	healthy func(bool)
}

func (f *fakeWatcher) Watch(_ context.Context, changed func(string), healthy func(bool)) {
	f.changed, f.healthy = changed, healthy
}

// TestCacheFollowsTheChangeFeed: with a shared store the cache serves only
// while the feed is live, and drops what the feed says changed.
func TestCacheFollowsTheChangeFeed(t *testing.T) {
	ctx := context.Background()
	clk := testclock.New(t0)
	st := memstore.New(memstore.Options{Now: clk.Now, CleanupInterval: -1})
	t.Cleanup(func() { _ = st.Close() })
	cs := &countingStore{Store: st}
	fw := &fakeWatcher{Store: cs}
	m, err := session.NewManager(session.ManagerOptions{Store: fw, Secrets: [][]byte{secret(1)}, Now: clk.Now, CacheTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tok, s := mustCreate(t, m, sampleData())
	load := func() {
		t.Helper()
		if _, err := m.Load(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	gets := func() int64 { return cs.gets.Load() }
	load()
	load()
	if gets() != 2 {
		t.Fatalf("before the feed is live the cache must be bypassed: %d store reads", gets())
	}
	fw.healthy(true)
	load()
	load()
	if gets() != 3 {
		t.Fatalf("with a live feed: %d store reads, want 3", gets())
	}
	fw.changed(s.ID)
	load()
	if gets() != 4 {
		t.Fatal("a change announced by the feed was not dropped")
	}
	fw.healthy(false)
	load()
	load()
	if gets() != 6 {
		t.Fatalf("with the feed down the cache served: %d store reads, want 6", gets())
	}
}

// leasedWatcher is a fakeWatcher whose lease the test sets.
type leasedWatcher struct {
	fakeWatcher
	current atomic.Bool
}

func (l *leasedWatcher) WatchLeased(ctx context.Context, changed func(string), healthy func(bool)) func() bool {
	l.Watch(ctx, changed, healthy)
	return l.current.Load
}

// TestCacheHonoursTheFeedLease: with a LeasedWatcher the cache serves only
// while both the feed is live and its lease holds.
func TestCacheHonoursTheFeedLease(t *testing.T) {
	ctx := context.Background()
	clk := testclock.New(t0)
	st := memstore.New(memstore.Options{Now: clk.Now, CleanupInterval: -1})
	t.Cleanup(func() { _ = st.Close() })
	cs := &countingStore{Store: st}
	lw := &leasedWatcher{fakeWatcher: fakeWatcher{Store: cs}}
	m, err := session.NewManager(session.ManagerOptions{Store: lw, Secrets: [][]byte{secret(1)}, Now: clk.Now, CacheTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tok, _ := mustCreate(t, m, sampleData())
	reads := func() int64 {
		t.Helper()
		before := cs.gets.Load()
		for range 2 {
			if _, err := m.Load(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		return cs.gets.Load() - before
	}
	lw.healthy(true)
	if n := reads(); n != 2 {
		t.Fatalf("live feed without a lease: %d store reads of 2 loads, want 2", n)
	}
	lw.current.Store(true)
	if n := reads(); n != 0 {
		t.Fatalf("live feed with its lease: %d store reads of 2 loads, want 0 (kept by the loads before)", n)
	}
	lw.current.Store(false)
	if n := reads(); n != 2 {
		t.Fatalf("lease lapsed: %d store reads of 2 loads, want 2", n)
	}
}

// TestCachedLoadIsTheCallersCopy: the cache hands LoadJSON its own shared
// session; Load must still give each caller a copy it may change.
func TestCachedLoadIsTheCallersCopy(t *testing.T) {
	ctx := context.Background()
	m, cs, _ := newCachedManager(t, time.Minute)
	tok, _ := mustCreate(t, m, sampleData())
	if _, err := m.Load(ctx, tok); err != nil { // fills the cache
		t.Fatal(err)
	}
	first, err := m.Load(ctx, tok) // served from it
	if err != nil {
		t.Fatal(err)
	}
	first.Data.User.Name = "Mallory"
	first.Expires = first.Expires.Add(-time.Hour)
	for i := range 2 {
		s, err := m.Load(ctx, tok)
		if err != nil || s.Data.User.Name != "Alice" || !s.Expires.After(first.Expires) {
			t.Fatalf("load %d after changing an earlier result: %v, name %q", i, err, s.Data.User.Name)
		}
		s2, _, err := m.LoadJSON(ctx, tok)
		if err != nil || s2.Data.User.Name != "Alice" {
			t.Fatalf("LoadJSON %d after changing an earlier result: %v", i, err)
		}
	}
	if n := cs.gets.Load(); n > 1 {
		t.Fatalf("store read %d times: the loads were not served from the cache", n)
	}
}
