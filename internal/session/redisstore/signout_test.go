package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/redisstore"
)

// countingStore counts the reads that reach Redis; embedding keeps the
// store's Watch methods.
type countingStore struct {
	*redisstore.Store
	gets atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, id string) (*session.Record, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, id)
}

// cachedManager is one authbff instance: a Manager with the cache on, over
// its own Store on srv.
func cachedManager(t *testing.T, srv *redistest.Server, mod func(*redisstore.Options)) (*session.Manager, *countingStore) {
	t.Helper()
	o := redisstore.Options{URL: srv.URL, Prefix: srv.Prefix}
	if mod != nil {
		mod(&o)
	}
	return cachedManagerFor(t, o)
}

// cachedManagerFor is cachedManager for a store made from o.
func cachedManagerFor(t *testing.T, o redisstore.Options) (*session.Manager, *countingStore) {
	t.Helper()
	st, err := redisstore.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cs := &countingStore{Store: st}
	m, err := session.NewManager(session.ManagerOptions{
		Store: cs, Secrets: [][]byte{bytes.Repeat([]byte{7}, 32)}, CacheTTL: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m, cs
}

// cachedLoad loads tok through m until a load is served from the cache
// (the change feed's own news of the session's creation may drop the first
// copy), and reports whether one was.
func cachedLoad(t *testing.T, m *session.Manager, cs *countingStore, tok string) bool {
	t.Helper()
	for range 20 {
		n := cs.gets.Load()
		if _, err := m.Load(context.Background(), tok); err != nil {
			t.Fatalf("load: %v", err)
		}
		if cs.gets.Load() == n {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

// TestSignOutIsSeenAtOnceByEveryInstance (issue 11 item 3): instance B has
// the session cached; instance A deletes it; B's very next load must not
// serve it. 100 tries, 0 stale answers.
func TestSignOutIsSeenAtOnceByEveryInstance(t *testing.T) {
	srv := redistest.Start(t)
	ma, _ := cachedManager(t, srv, nil)
	mb, csb := cachedManager(t, srv, nil)
	checkSignOuts(t, ma, mb, csb, 100, 5*time.Second)
}

// checkSignOuts ends tries sessions through ma, each cached by mb just
// before, and fails t when mb's next load still serves one. It first waits
// up to live for mb to serve from its cache at all.
func checkSignOuts(t *testing.T, ma, mb *session.Manager, csb *countingStore, tries int, live time.Duration) {
	t.Helper()
	data := session.Data{Provider: "p", Subject: "alice", User: session.User{ID: "alice"}}
	ctx := context.Background()
	tok, _, err := ma.Create(ctx, data, session.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(live)
	for !cachedLoad(t, mb, csb, tok) {
		if time.Now().After(deadline) {
			t.Fatalf("B never served from its cache within %v", live)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stale, notCached := 0, 0
	var took []time.Duration
	for i := range tries {
		tok, s, err := ma.Create(ctx, data, session.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if !cachedLoad(t, mb, csb, tok) {
			notCached++
		}
		start := time.Now()
		// Alternate the ways a session ends: sign-out, revocation by id,
		// and back-channel logout of the user.
		switch i % 3 {
		case 0:
			err = ma.Delete(ctx, tok)
		case 1:
			err = ma.DeleteID(ctx, s.ID)
		case 2:
			_, err = ma.DeleteUser(ctx, s.UserKey)
		}
		took = append(took, time.Since(start))
		if err != nil {
			t.Fatalf("delete %d: %v", i, err)
		}
		if _, err := mb.Load(ctx, tok); !errors.Is(err, session.ErrNotFound) {
			stale++
		}
	}
	slices.Sort(took)
	t.Logf("%d of %d loads right after a delete were stale; delete took median %v, max %v; %d sessions were not cached by B",
		stale, tries, took[len(took)/2].Round(time.Microsecond), took[len(took)-1].Round(time.Microsecond), notCached)
	if stale > 0 {
		t.Errorf("%d stale answers, want 0", stale)
	}
	if notCached > tries/10 {
		t.Errorf("B did not cache %d of %d sessions: the test proves nothing", notCached, tries)
	}
}

// TestSignOutWithAStalledInstance: B's path to Redis hangs (a frozen proxy),
// so B can neither receive A's announcement nor confirm it. A's Delete waits
// about FeedLease for B, then returns; from then on B must not serve the
// session from its cache (its lease has lapsed), and once its path is back
// it knows the session ended.
func TestSignOutWithAStalledInstance(t *testing.T) {
	srv := redistest.Start(t)
	opt, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	px := redistest.StartProxy(t, opt.Addr)
	const lease = 300 * time.Millisecond
	ma, _ := cachedManager(t, srv, func(o *redisstore.Options) { o.FeedLease = lease })
	mb, csb := cachedManager(t, srv, func(o *redisstore.Options) {
		o.URL, o.FeedLease, o.OpTimeout = "redis://"+px.Addr+"/0", lease, 300*time.Millisecond
	})
	ctx := context.Background()
	tok, _, err := ma.Create(ctx, session.Data{Provider: "p", Subject: "bob"}, session.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !cachedLoad(t, mb, csb, tok) {
		if time.Now().After(deadline) {
			t.Fatal("B never served from its cache")
		}
		time.Sleep(20 * time.Millisecond)
	}

	px.Freeze()
	start := time.Now()
	if err := ma.Delete(ctx, tok); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("Delete with B stalled took %v (lease %v)", took.Round(time.Millisecond), lease)
	if took < lease*9/10 || took > lease+500*time.Millisecond {
		t.Errorf("Delete took %v, want about the lease %v (B was subscribed and did not confirm)", took, lease)
	}
	if s, err := mb.Load(ctx, tok); err == nil {
		t.Fatalf("B served the ended session %s from its cache", s.ID[:8])
	} else if !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("B while stalled: %v, want ErrUnavailable", err)
	}
	px.Thaw()
	deadline = time.Now().Add(5 * time.Second)
	for {
		_, err := mb.Load(ctx, tok)
		if errors.Is(err, session.ErrNotFound) {
			break
		}
		if err == nil {
			t.Fatal("B served the ended session after its path came back")
		}
		if time.Now().After(deadline) {
			t.Fatalf("B after the thaw: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
