package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authbff/authbff/internal/session"
)

// watchRetry is how long a subscription waits between attempts to
// (re)subscribe.
const watchRetry = 100 * time.Millisecond

var _ session.LeasedWatcher = (*Store)(nil)

// Watch is WatchLeased without the lease: see there.
func (s *Store) Watch(ctx context.Context, changed func(id string), healthy func(ok bool)) {
	s.WatchLeased(ctx, changed, healthy)
}

// WatchLeased reports, until ctx ends or the store is closed, every record
// saved or deleted through any Store sharing this Redis and prefix (this one
// included): Save publishes the id on <prefix>changes, Delete also on the
// ended-session feed (see feed.go), whose every message it waits to see
// acknowledged. A process caching sessions (session.Manager with a CacheTTL)
// drops its copy at once when another instance signs a user out or
// refreshes their tokens.
//
// healthy(true) is called once both subscriptions are live, and again after
// every reconnection; healthy(false) as soon as one is lost (Redis stopped,
// network error, no answer to pings for 3 s). Between the two, changes may
// be missed, so a cache must not serve anything it holds.
//
// current reports whether the feed's lease holds: an answer to a ping sent
// on the feed subscription less than FeedLease ago has arrived, so every
// session whose Delete returned has been passed to changed. It may turn
// false without healthy(false), e.g. while Redis hangs. WatchLeased returns
// at once; the subscriptions are made and kept in the background.
func (s *Store) WatchLeased(ctx context.Context, changed func(id string), healthy func(ok bool)) (current func() bool) {
	s.startAcks() // a watching instance deletes too: be ready
	var (
		h     = &health{report: healthy}
		lease atomic.Int64 // nanoseconds since s.base until which the feed is current; 0: not
	)
	compat := &subscription{
		s: s, channels: []string{s.changesChannel()}, pingEvery: 300 * time.Millisecond,
		onMessage: func(m *redis.Message) { changed(m.Payload) },
		onUp:      func(up bool) { h.set(0, up) },
	}
	feed := &subscription{
		s: s, channels: []string{s.endsChannel()}, feed: true, pingEvery: s.feedLease / 5,
		onMessage: func(m *redis.Message) {
			origin, rest, _ := strings.Cut(m.Payload, " ")
			seq, ids, _ := strings.Cut(rest, " ")
			for id := range strings.SplitSeq(ids, " ") {
				if id != "" {
					changed(id)
				}
			}
			if origin != "" && seq != "" {
				go s.sendAck(origin, seq)
			}
		},
		onPong: func(sent time.Duration) {
			until := int64(sent + s.feedLease)
			for {
				cur := lease.Load()
				if cur >= until || lease.CompareAndSwap(cur, until) {
					return
				}
			}
		},
		onUp: func(up bool) {
			if !up {
				lease.Store(0)
			}
			h.set(1, up)
		},
	}
	go compat.run(ctx)
	go feed.run(ctx)
	return func() bool { return int64(time.Since(s.base)) < lease.Load() }
}

// health combines the state of two subscriptions into one report, made on
// every change of the combined state.
type health struct {
	mu     sync.Mutex
	up     [2]bool
	was    bool
	report func(bool)
}

func (h *health) set(i int, up bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.up[i] = up
	if now := h.up[0] && h.up[1]; now != h.was {
		h.was = now
		h.report(now)
	}
}

// subscription keeps one Pub/Sub subscription to channels (shard channels
// on Cluster when feed is set) until ctx ends or the store is closed,
// starting over with a fresh connection after any error.
type subscription struct {
	s         *Store
	channels  []string
	feed      bool
	pingEvery time.Duration
	onMessage func(*redis.Message)
	onPong    func(sent time.Duration) // sent: when the ping went out, since s.base
	onUp      func(bool)               // true once every channel is subscribed; false on loss
	live      bool                     // every channel is subscribed (this connection)
}

func (x *subscription) run(ctx context.Context) {
	for {
		err := x.serve(ctx)
		if ctx.Err() != nil || x.s.closed.Load() || x.s.bg.Err() != nil {
			return
		}
		x.onUp(false)
		x.s.reloadOnError(err)
		if x.feed && x.s.cluster != nil && unknownCommand(err) {
			x.s.feedUnsupported.Store(true)
		}
		if x.live {
			x.live = false
			x.s.log.Warn("redisstore: lost a change subscription; cached sessions are bypassed until it is back", "channel", x.channels[0], "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-x.s.bg.Done():
			return
		case <-time.After(watchRetry):
		}
	}
}

// errUnsubscribed: Redis ended the subscription (on Cluster, when the
// channel's slot moved to another node).
var errUnsubscribed = errors.New("unsubscribed by the server")

// serve subscribes on a fresh connection and handles what arrives until
// an error, which it returns.
func (x *subscription) serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(x.s.bg, cancel)
	defer stop()
	var ps *redis.PubSub
	var err error
	if x.feed {
		ps, err = x.s.subscribeFeed(ctx, x.channels...)
	} else {
		ps = x.s.client.Subscribe(ctx)
		err = ps.Subscribe(ctx, x.channels...)
	}
	defer ps.Close()
	if err != nil {
		return err
	}
	go func() {
		t := time.NewTicker(x.pingEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = ps.Ping(ctx, strconv.FormatInt(int64(time.Since(x.s.base)), 10))
			}
		}
	}()
	pending := make(map[string]bool, len(x.channels))
	for _, c := range x.channels {
		pending[c] = true
	}
	// Pings go out every pingEvery: silence for this long is a dead link.
	quiet := max(3*time.Second, 10*x.pingEvery)
	for {
		msg, err := ps.ReceiveTimeout(ctx, quiet)
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			switch m.Kind {
			case "subscribe", "ssubscribe":
				if pending[m.Channel] {
					delete(pending, m.Channel)
					if len(pending) == 0 {
						x.live = true
						x.onUp(true)
					}
				}
			default:
				return errUnsubscribed
			}
		case *redis.Message:
			x.onMessage(m)
		case *redis.Pong:
			if n, err := strconv.ParseInt(m.Payload, 10, 64); err == nil && x.onPong != nil && len(pending) == 0 {
				x.onPong(time.Duration(n))
			}
		}
	}
}
