package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/redisstore"
)

// splitClient sends commands to one server and subscribes on another: an
// instance whose feed subscription landed on another node than the one the
// deletes publish on (a replica, another Cluster node, an old master).
type splitClient struct {
	*redis.Client
	sub *redis.Client
}

func (c splitClient) Subscribe(ctx context.Context, channels ...string) *redis.PubSub {
	return c.sub.Subscribe(ctx, channels...)
}

// client returns a client for addr (host:port) that honours context
// deadlines, closed at cleanup.
func client(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1,
		DialTimeout: 200 * time.Millisecond, ReadTimeout: 300 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	return c
}

func addrOf(t *testing.T, srv *redistest.Server) string {
	t.Helper()
	o, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return o.Addr
}

// cacheSession creates a session through ma and waits until mb serves it
// from its cache.
func cacheSession(t *testing.T, ma, mb *session.Manager, csb *countingStore) string {
	t.Helper()
	tok, _, err := ma.Create(context.Background(), session.Data{Provider: "p", Subject: "carol"}, session.Meta{})
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
	return tok
}

// TestSignOutWaitsForAnInstanceSubscribedElsewhere (issue 19): B's feed
// subscription is on a replica whose replication stalls, while B's pings
// there are answered and its commands reach the master. PUBLISH on the
// master does not count B; presence does: A's Delete waits for B, and B,
// whose presence probes no longer come back, serves nothing from its cache
// once the Delete has returned.
func TestSignOutWaitsForAnInstanceSubscribedElsewhere(t *testing.T) {
	master, replica := redistest.Start(t), redistest.Start(t)
	masterAddr := addrOf(t, master)
	px := redistest.StartProxy(t, masterAddr) // the replication link
	c := ctx(t)
	if err := client(t, masterAddr).ConfigSet(c, "repl-diskless-sync-delay", "0").Err(); err != nil {
		t.Fatal(err)
	}
	rc := client(t, addrOf(t, replica))
	host, port, _ := strings.Cut(px.Addr, ":")
	if err := rc.SlaveOf(c, host, port).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(rc.Info(c, "replication").Val(), "master_link_status:up") {
		if time.Now().After(deadline) {
			t.Fatal("the replica never synced")
		}
		time.Sleep(20 * time.Millisecond)
	}

	const lease = 300 * time.Millisecond
	ma, _ := cachedManager(t, master, func(o *redisstore.Options) { o.FeedLease = lease })
	split := splitClient{Client: client(t, masterAddr), sub: client(t, addrOf(t, replica))}
	mb, csb := cachedManagerFor(t, redisstore.Options{Client: split, Prefix: master.Prefix, FeedLease: lease})
	tok := cacheSession(t, ma, mb, csb)

	px.Freeze()
	start := time.Now()
	if err := ma.Delete(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("Delete with B subscribed to a stalled replica took %v (lease %v)", took.Round(time.Millisecond), lease)
	if s, err := mb.Load(context.Background(), tok); err == nil {
		t.Fatalf("B served the ended session %s from its cache", s.ID[:8])
	} else if !errors.Is(err, session.ErrNotFound) {
		t.Errorf("B after the Delete: %v, want ErrNotFound", err)
	}
	if took < lease/2 {
		t.Errorf("Delete took %v: it did not wait for B (lease %v)", took, lease)
	}
	px.Thaw()
}

// TestLapsedPresenceServesNothing: B's subscription is fine (its pings
// are answered) but its commands, the presence renewals among them, hang:
// within the lease B stops serving from its cache.
func TestLapsedPresenceServesNothing(t *testing.T) {
	srv := redistest.Start(t)
	addr := addrOf(t, srv)
	px := redistest.StartProxy(t, addr) // B's command path
	const lease = 300 * time.Millisecond
	ma, _ := cachedManager(t, srv, func(o *redisstore.Options) { o.FeedLease = lease })
	split := splitClient{Client: client(t, px.Addr), sub: client(t, addr)}
	mb, csb := cachedManagerFor(t, redisstore.Options{Client: split, Prefix: srv.Prefix, FeedLease: lease, OpTimeout: 300 * time.Millisecond})
	tok := cacheSession(t, ma, mb, csb)

	px.Freeze()
	time.Sleep(lease + lease/2)
	n := csb.gets.Load()
	if s, err := mb.Load(context.Background(), tok); err == nil && csb.gets.Load() == n {
		t.Fatalf("B served session %s from its cache with its presence lapsed", s.ID[:8])
	}
	px.Thaw()
	// Once its renewals pass again, B serves from its cache again.
	deadline := time.Now().Add(5 * time.Second)
	for !cachedLoad(t, mb, csb, tok) {
		if time.Now().After(deadline) {
			t.Fatal("B never served from its cache again")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
