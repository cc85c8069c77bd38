package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authbff/authbff/internal/session"
)

// watchRetry is how long a subscription waits between attempts to
// (re)subscribe.
const watchRetry = 100 * time.Millisecond

var (
	_ session.LeasedWatcher = (*Store)(nil)
	_ session.WatchWaiter   = (*Store)(nil)
)

// Watch is WatchLeased without the lease: see there.
func (s *Store) Watch(ctx context.Context, changed func(id string), healthy func(ok bool)) {
	s.WatchLeased(ctx, changed, healthy)
}

// WatchLeased reports, until ctx ends or the store is closed, every record
// written or ended through any Store sharing this Redis and prefix (this
// one included): Create and Update publish the id on <prefix>changes,
// Delete also on the ended-session feed (see feed.go), whose every message
// it waits to see acknowledged by the instances present. A process caching
// sessions (session.Manager with a CacheTTL) drops its copy at once when
// another instance signs a user out or refreshes their tokens.
//
// healthy(true) is called once both subscriptions are live, and again after
// every reconnection; healthy(false) as soon as one is lost (Redis stopped,
// network error, no answer to pings for 3 s). Between the two, changes may
// be missed, so a cache must not serve anything it holds.
//
// current reports whether the watch's presence lease holds: it registered
// itself in <prefix>{feed}presence (renewed every FeedLease/3) and the
// probe of a renewal made less than FeedLease ago came back through the
// feed subscription, so every session whose Delete has returned has been
// passed to changed. It turns false within FeedLease when the renewals
// fail or the subscription stops hearing the node the feed is published
// on (e.g. it is on a replica, or a master that has been replaced), with
// or without healthy(false). WatchLeased returns at once; the
// subscriptions and the renewals run in the background, and the presence
// is withdrawn when ctx ends. The watch then stops (WaitWatch waits for
// that), as it does when the store is closed; on a closed store it starts
// nothing and current stays false.
func (s *Store) WatchLeased(ctx context.Context, changed func(id string), healthy func(ok bool)) (current func() bool) {
	s.startAcks() // a watching instance deletes too: be ready
	h := &health{report: healthy}
	p := &presence{s: s, member: rand.Text()}
	probe := s.probeChannel(p.member)
	compat := &subscription{
		s: s, channels: []string{s.changesChannel()}, pingEvery: 300 * time.Millisecond,
		onMessage: func(m *redis.Message) { changed(m.Payload) },
		onUp:      func(up bool) { h.set(0, up) },
	}
	feed := &subscription{
		s: s, channels: []string{s.endsChannel(), probe}, feed: true, pingEvery: s.feedLease / 5,
		onMessage: func(m *redis.Message) {
			if m.Channel == probe {
				p.probed(m.Payload)
				return
			}
			origin, rest, _ := strings.Cut(m.Payload, " ")
			seq, ids, _ := strings.Cut(rest, " ")
			for id := range strings.SplitSeq(ids, " ") {
				if id != "" {
					changed(id)
				}
			}
			if origin != "" && seq != "" {
				s.goWatch(ctx, func() { s.sendAck(ctx, origin, seq, p.member) })
			}
		},
		onUp: func(up bool) {
			if !up {
				p.lost()
			}
			h.set(1, up)
		},
	}
	s.goWatch(ctx, func() { compat.run(ctx) })
	s.goWatch(ctx, func() { feed.run(ctx) })
	s.goWatch(ctx, func() { p.run(ctx) })
	return p.current
}

// WaitWatch returns once the watch started with ctx (by Watch or
// WatchLeased, given this very ctx; every one of them if several were) has
// stopped: it calls changed and healthy no more, its presence is withdrawn
// and every goroutine it started has ended. A watch stops soon after ctx
// ends or the store is closed (an acknowledgement or presence withdrawal
// under way ends within its timeout, at most a second or the op timeout);
// WaitWatch before that waits for it. Without such a watch it returns at
// once.
func (s *Store) WaitWatch(ctx context.Context) {
	s.gmu.Lock()
	w := s.watches[ctx]
	s.gmu.Unlock()
	if w != nil {
		<-w.done
	}
}

// watchGroup counts the goroutines of the watches started with one ctx.
type watchGroup struct {
	n    int
	done chan struct{} // closed when n drops to 0
}

// goBg runs f in a goroutine Close waits for, unless the store is closed.
func (s *Store) goBg(f func()) {
	s.gmu.Lock()
	defer s.gmu.Unlock()
	if s.closed.Load() {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// goWatch runs f in a goroutine of the watch started with ctx, which
// WaitWatch(ctx) and Close wait for, unless the store is closed.
func (s *Store) goWatch(ctx context.Context, f func()) {
	s.gmu.Lock()
	defer s.gmu.Unlock()
	if s.closed.Load() {
		return
	}
	w := s.watches[ctx]
	if w == nil {
		if s.watches == nil {
			s.watches = make(map[context.Context]*watchGroup)
		}
		w = &watchGroup{done: make(chan struct{})}
		s.watches[ctx] = w
	}
	w.n++
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.gmu.Lock()
			defer s.gmu.Unlock()
			if w.n--; w.n == 0 {
				delete(s.watches, ctx)
				close(w.done)
			}
		}()
		f()
	}()
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
	onUp      func(bool) // true once every channel is subscribed; false on loss
	live      bool       // every channel is subscribed (this connection)
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
	// The pinger closes ps when ctx ends (a read does not end with its
	// context), and serve returns only once it has ended.
	var pinger sync.WaitGroup
	defer pinger.Wait()
	defer cancel()
	pinger.Go(func() {
		t := time.NewTicker(x.pingEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				_ = ps.Close()
				return
			case <-t.C:
				_ = ps.Ping(ctx, strconv.FormatInt(int64(time.Since(x.s.base)), 10))
			}
		}
	})
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
			// Pings only keep the link provably alive (see quiet).
		}
	}
}
