package redistest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authbff/authbff/internal/redistest"
)

func TestStartStopRestart(t *testing.T) {
	srv := redistest.Start(t)
	if !strings.HasPrefix(srv.URL, "redis://") || !strings.HasSuffix(srv.Prefix, ":") {
		t.Fatalf("Server = %+v, want a redis:// URL and a prefix ending in ':'", srv)
	}
	if other := redistest.Start(t); other.Prefix == srv.Prefix {
		t.Fatalf("two servers share the prefix %q", srv.Prefix)
	}
	opt, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	opt.MaxRetries = -1
	opt.DialerRetries = 1
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return c.Ping(ctx).Err()
	}
	ctx := context.Background()
	if err := ping(); err != nil {
		t.Fatalf("PING after Start: %v", err)
	}
	if err := c.Set(ctx, srv.Prefix+"k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.ConfigGet(ctx, "save").Val()["save"]; got != "" {
		t.Errorf("save = %q, want persistence off", got)
	}

	srv.Stop()
	if err := ping(); err == nil {
		t.Fatal("PING after Stop succeeded")
	}
	srv.Stop() // a second Stop is harmless

	srv.Restart()
	if err := ping(); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
	if n := c.Exists(ctx, srv.Prefix+"k").Val(); n != 0 {
		t.Errorf("key survived the restart; want an empty server")
	}
}

func TestSigStopSigCont(t *testing.T) {
	srv := redistest.Start(t)
	opt, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	opt.MaxRetries = -1
	opt.ContextTimeoutEnabled = true
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		return c.Ping(ctx).Err()
	}
	srv.SigStop()
	if err := ping(); err == nil {
		t.Fatal("a frozen server answered PING")
	}
	srv.SigCont()
	if err := ping(); err != nil {
		t.Fatalf("PING after SigCont: %v", err)
	}
	srv.SigStop() // left frozen: cleanup must still stop it
}

// TestClusterFailover: six nodes, three masters; killing the master of a key
// promotes its replica, which then serves the key.
func TestClusterFailover(t *testing.T) {
	cl := redistest.StartCluster(t, redistest.ClusterOptions{})
	if len(cl.Nodes) != 6 || !strings.HasPrefix(cl.URL, "redis-cluster://") {
		t.Fatalf("cluster = %+v", cl)
	}
	key := cl.Prefix + "k"
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{cl.Nodes[0].Addr}})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Set(ctx, key, "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	cl.WaitReplicated()
	start := time.Now()
	dead := cl.KillMaster(key)
	promoted, at := cl.WaitPromoted(dead, 15*time.Second)
	t.Logf("%s died; %s promoted after %v", dead, promoted, at.Sub(start))
	if got := cl.MasterOf(key); got != promoted {
		t.Fatalf("MasterOf = %s, want the promoted %s", got, promoted)
	}
	d := redis.NewClient(&redis.Options{Addr: promoted})
	t.Cleanup(func() { d.Close() })
	if v, err := d.Get(ctx, key).Result(); err != nil || v != "v" {
		t.Fatalf("GET on the promoted replica = %q, %v", v, err)
	}
}

// TestSentinelFailover: killing the master makes the Sentinels promote a
// replica and advertise it.
func TestSentinelFailover(t *testing.T) {
	sg := redistest.StartSentinel(t, redistest.SentinelOptions{})
	if len(sg.Sentinels) != 3 || len(sg.Nodes) != 3 || !strings.HasPrefix(sg.URL, "redis-sentinel://") {
		t.Fatalf("sentinel group = %+v", sg)
	}
	first := sg.Master()
	if first != sg.Nodes[0].Addr {
		t.Fatalf("Master = %s, want %s", first, sg.Nodes[0].Addr)
	}
	start := time.Now()
	dead := sg.KillMaster()
	promoted, at := sg.WaitPromoted(dead, 15*time.Second)
	t.Logf("%s died; %s promoted after %v", dead, promoted, at.Sub(start))
	deadline := time.Now().Add(5 * time.Second)
	for sg.Master() != promoted {
		if time.Now().After(deadline) {
			t.Fatalf("the Sentinels still advertise %s, want %s", sg.Master(), promoted)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("advertised after %v", time.Since(start))
}

// TestProxyFreeze: a frozen proxy hangs its client's path without closing
// it; thawed, it forwards again.
func TestProxyFreeze(t *testing.T) {
	srv := redistest.Start(t)
	opt, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	px := redistest.StartProxy(t, opt.Addr)
	c := redis.NewClient(&redis.Options{Addr: px.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		return c.Ping(ctx).Err()
	}
	if err := ping(); err != nil {
		t.Fatalf("PING through the proxy: %v", err)
	}
	px.Freeze()
	if err := ping(); err == nil {
		t.Fatal("PING through a frozen proxy succeeded")
	}
	px.Thaw()
	if err := ping(); err != nil {
		t.Fatalf("PING after Thaw: %v", err)
	}
}
