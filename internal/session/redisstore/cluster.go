package redisstore

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterReloadInterval is the periodic slot-map reload, a backstop for
// the reloads on errors (go-redis's default is 60 s).
const clusterReloadInterval = 10 * time.Second

// newUniversalClient makes the go-redis client for u. A Cluster client
// gets a hook that reloads the slot map whenever a command fails in a way
// that may mean the topology changed: go-redis by itself reloads only on
// MOVED/ASK/READONLY and every minute, so after a master dies it keeps
// dialing the dead address until then, although a replica took over
// seconds earlier.
func newUniversalClient(u *redis.UniversalOptions, s *Store) redis.UniversalClient {
	if u.MasterName != "" || (len(u.Addrs) <= 1 && !u.IsClusterMode) {
		return redis.NewUniversalClient(u)
	}
	co := u.Cluster()
	co.ClusterStateReloadInterval = clusterReloadInterval
	// Masters only: a replica may still hold a session just ended, and the
	// feed's subscriptions must be on the master its publications go to.
	co.ReadOnly, co.RouteByLatency, co.RouteRandomly = false, false, false
	c := redis.NewClusterClient(co)
	c.AddHook(reloadHook{c})
	s.cluster = c
	return c
}

// reloadOnError asks a Cluster client to reload its slot map (in the
// background, coalesced by go-redis) when err suggests a topology change.
func (s *Store) reloadOnError(err error) {
	if s.cluster != nil && topologyError(err) {
		s.cluster.ReloadState(context.Background())
	}
}

// topologyError reports whether err may come from a stale slot map: the
// node is unreachable or hung (connection errors, timeouts, including the op
// timeout), or the cluster says so (CLUSTERDOWN, TRYAGAIN, MASTERDOWN,
// LOADING, READONLY, MOVED, ASK).
func topologyError(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var re redis.Error
	if errors.As(err, &re) {
		for _, p := range []string{"CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "LOADING", "READONLY", "MOVED", "ASK"} {
			if strings.HasPrefix(re.Error(), p) {
				return true
			}
		}
		return false
	}
	// Anything else (pool closed or timed out, a dial error go-redis wrapped
	// as text) is a connection problem too.
	return !errors.Is(err, redis.ErrClosed)
}

// reloadHook reloads a Cluster client's slot map after a failed command.
type reloadHook struct{ c *redis.ClusterClient }

func (h reloadHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h reloadHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if topologyError(err) {
			h.c.ReloadState(ctx)
		}
		return err
	}
}

func (h reloadHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		reload := topologyError(err)
		for _, c := range cmds {
			reload = reload || topologyError(c.Err())
		}
		if reload {
			h.c.ReloadState(ctx)
		}
		return err
	}
}
