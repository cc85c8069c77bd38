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
