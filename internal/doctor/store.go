package doctor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authbff/authbff/internal/session/redisstore"
	"github.com/authbff/authbff/internal/validate"
)

// CheckStore checks the session store SESSION_STORE names: a Redis store
// must answer PING, and its maxmemory-policy must be noeviction (an
// evicting policy drops sessions under memory pressure: people are
// silently signed out); a PostgreSQL store must answer, its schema version
// be one this release runs, and the role hold the privileges it needs
// (store_pg.go). memory and bolt are this process's own.
func CheckStore(ctx context.Context, r *Report, spec string) {
	shown := validate.RedactURL(spec)
	switch {
	case spec == "memory" || strings.HasPrefix(spec, "bolt:"):
		r.Add(true, "store", "session store "+shown+" is this process's own: nothing to reach", "")
	case isRedisSpec(spec):
		checkRedis(ctx, r, spec, shown)
	case strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://"):
		checkPostgres(ctx, r, spec, shown)
	}
}

func isRedisSpec(spec string) bool {
	for _, p := range []string{"redis://", "rediss://", "redis-sentinel://", "redis-cluster://"} {
		if strings.HasPrefix(spec, p) {
			return true
		}
	}
	return false
}

// checkRedis pings the store and reads maxmemory-policy on every master.
func checkRedis(ctx context.Context, r *Report, spec, shown string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := redisstore.New(redisstore.Options{URL: spec, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		r.Add(false, "store", "SESSION_STORE "+shown+": "+validate.RedactError(err, spec).Error(),
			"correct SESSION_STORE (redis://[user:pass@]host:port[/db], redis-sentinel://..., redis-cluster://...)")
		return
	}
	defer s.Close()
	// A plain dial first: go-redis's retries turn "refused" into a timeout.
	err = nil
	if h := redisHost(spec); h != "" {
		var c net.Conn
		if c, err = (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", h); err == nil {
			c.Close()
		}
	}
	if err == nil {
		err = s.Ping(ctx)
	}
	if err != nil {
		sum := Summarize(validate.RedactError(err, spec), redisHost(spec), "SESSION_STORE (the session store's URL)")
		r.Add(false, "store", "session store "+shown+" does not answer: "+sum.What, sum.Fix)
		return
	}
	r.Add(true, "store", "session store "+shown+" answers", "")
	policies, err := maxmemoryPolicies(ctx, s.Client())
	if err != nil {
		r.Warn("store", "cannot read the Redis maxmemory-policy ("+Shorten(validate.RedactError(err, spec).Error(), 100)+")",
			"make sure it is noeviction (managed Redis: the parameter group), or sessions may be evicted")
		return
	}
	for _, p := range policies {
		if p != "noeviction" {
			r.Add(false, "store", "Redis maxmemory-policy is "+p+": under memory pressure Redis evicts sessions, silently signing people out",
				"set maxmemory-policy noeviction (redis.conf, CONFIG SET maxmemory-policy noeviction, or the managed Redis parameter group) and give Redis enough maxmemory")
			return
		}
	}
	r.Add(true, "store", "Redis maxmemory-policy is noeviction: sessions are never evicted", "")
}

// maxmemoryPolicies reads maxmemory-policy from every master (one for a
// single server or Sentinel's master).
func maxmemoryPolicies(ctx context.Context, c redis.UniversalClient) ([]string, error) {
	get := func(ctx context.Context, c redis.Cmdable) (string, error) {
		m, err := c.ConfigGet(ctx, "maxmemory-policy").Result()
		if err != nil {
			return "", err
		}
		p, ok := m["maxmemory-policy"]
		if !ok {
			return "", errors.New("CONFIG GET maxmemory-policy returned nothing")
		}
		return p, nil
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		var (
			out []string
			mu  = make(chan struct{}, 1)
		)
		err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			p, err := get(ctx, n)
			if err != nil {
				return fmt.Errorf("%s: %w", n.Options().Addr, err)
			}
			mu <- struct{}{}
			out = append(out, p)
			<-mu
			return nil
		})
		return out, err
	}
	p, err := get(ctx, c)
	return []string{p}, err
}

// redisHost is the first host of a Redis store URL.
func redisHost(spec string) string {
	_, rest, _ := strings.Cut(spec, "://")
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	rest, _, _ = strings.Cut(rest, "/")
	rest, _, _ = strings.Cut(rest, "?")
	rest, _, _ = strings.Cut(rest, ",")
	if u, err := url.Parse("redis://" + rest); err == nil {
		return u.Host
	}
	return rest
}
