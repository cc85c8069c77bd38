package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The ended-session feed: how a Delete makes sure that no other instance's
// session cache serves the session once Delete has returned.
//
// Every Store that watches (a Manager with a cache) subscribes to
// <prefix>{feed}ends. Delete, after removing the record, publishes
// "<origin> <seq> <id>..." there; PUBLISH answers how many subscribers got
// it. Each subscriber drops the ids from its cache, then publishes <seq> on
// <prefix>{feed}ack:<origin>, which the deleting Store listens to. Delete
// returns when every subscriber has answered, normally within a round trip.
//
// A subscriber that does not answer (hung, partitioned, slow) is covered by
// a lease: it pings Redis on the same subscription every FeedLease/5 and
// serves from its cache only while the answer to a ping sent less than
// FeedLease ago has arrived. Redis answers a ping only after delivering every
// message published before it on that connection, so such an answer proves
// the subscriber has seen every end published FeedLease ago or earlier.
// Delete therefore waits, at most, FeedLease after its PUBLISH returned.
//
// On Cluster both channels are shard channels (SPUBLISH/SSUBSCRIBE, Redis
// 7), kept in one slot by the {feed} tag, so that publisher and subscribers
// meet on the same master and PUBLISH's count is the whole truth.

// DefaultFeedLease is Options.FeedLease when it is 0.
const DefaultFeedLease = 500 * time.Millisecond

func (s *Store) endsChannel() string { return s.prefix + "{feed}ends" }
func (s *Store) ackChannel(origin string) string {
	return s.prefix + "{feed}ack:" + origin
}

// publishFeed publishes on a feed channel and returns how many subscribers
// received it.
func (s *Store) publishFeed(ctx context.Context, c redis.Cmdable, channel, msg string) *redis.IntCmd {
	if s.cluster != nil {
		return c.SPublish(ctx, channel, msg)
	}
	return c.Publish(ctx, channel, msg)
}

// subscribeFeed returns a subscription to feed channels.
func (s *Store) subscribeFeed(ctx context.Context, channels ...string) (*redis.PubSub, error) {
	ps := s.client.Subscribe(ctx)
	var err error
	if s.cluster != nil {
		err = ps.SSubscribe(ctx, channels...)
	} else {
		err = ps.Subscribe(ctx, channels...)
	}
	return ps, err
}

// acks collects the acknowledgements of a Store's announced ends.
type acks struct {
	once sync.Once
	mu   sync.Mutex
	seq  uint64
	wait map[uint64]*ackWait
	live chan struct{} // closed while the ack subscription is up
}

type ackWait struct {
	need int // -1 until PUBLISH has answered
	got  int
	done chan struct{}
}

// startAcks subscribes to this Store's ack channel, once, in the background
// until Close.
func (s *Store) startAcks() {
	s.acks.once.Do(func() {
		s.acks.mu.Lock()
		s.acks.wait = make(map[uint64]*ackWait)
		s.acks.live = make(chan struct{})
		s.acks.mu.Unlock()
		sub := &subscription{
			s: s, channels: []string{s.ackChannel(s.origin)}, feed: true, pingEvery: time.Second,
			onMessage: func(m *redis.Message) {
				if seq, err := strconv.ParseUint(m.Payload, 10, 64); err == nil {
					s.acked(seq)
				}
			},
			onUp: func(up bool) {
				s.acks.mu.Lock()
				defer s.acks.mu.Unlock()
				select {
				case <-s.acks.live:
					if !up {
						s.acks.live = make(chan struct{})
					}
				default:
					if up {
						close(s.acks.live)
					}
				}
			},
		}
		go sub.run(s.bg)
	})
}

func (s *Store) acked(seq uint64) {
	s.acks.mu.Lock()
	defer s.acks.mu.Unlock()
	w := s.acks.wait[seq]
	if w == nil {
		return
	}
	w.got++
	if w.need >= 0 && w.got == w.need {
		close(w.done)
	}
}

// announceEnd tells every watching Store that ids ended, and returns once
// each has dropped them from its cache or can no longer serve from it (at
// most FeedLease after the publication, or when ctx ends: then an error).
// The old plain-id change is published too, for instances of earlier
// versions.
func (s *Store) announceEnd(ctx context.Context, ids ...string) error {
	s.startAcks()
	s.acks.mu.Lock()
	live := s.acks.live
	s.acks.mu.Unlock()
	lease := time.NewTimer(s.feedLease)
	defer lease.Stop()
	if !s.feedUnsupported.Load() {
		select {
		case <-live:
		case <-lease.C:
			// Publish anyway: without acknowledgements the lease bounds it.
		case <-ctx.Done():
			return ctx.Err()
		}
	}

	s.acks.mu.Lock()
	s.acks.seq++
	seq := s.acks.seq
	w := &ackWait{need: -1, done: make(chan struct{})}
	s.acks.wait[seq] = w
	s.acks.mu.Unlock()
	defer func() {
		s.acks.mu.Lock()
		delete(s.acks.wait, seq)
		s.acks.mu.Unlock()
	}()

	octx, cancel := s.opCtx(ctx)
	var n *redis.IntCmd
	_, err := s.client.Pipelined(octx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			p.Publish(octx, s.changesChannel(), id)
		}
		n = s.publishFeed(octx, p, s.endsChannel(), s.origin+" "+strconv.FormatUint(seq, 10)+" "+strings.Join(ids, " "))
		return nil
	})
	cancel()
	if err != nil && !(s.cluster != nil && unknownCommand(n.Err())) {
		return err
	}
	// (On a Cluster of Redis < 7 nobody can subscribe to the feed: no
	// cache is served, nothing to wait for.)
	s.acks.mu.Lock()
	w.need = int(n.Val())
	done := w.got >= w.need
	s.acks.mu.Unlock()
	if done {
		return nil
	}
	lease.Reset(s.feedLease)
	select {
	case <-w.done:
		return nil
	case <-lease.C:
		s.acks.mu.Lock()
		missing := w.need - w.got
		s.acks.mu.Unlock()
		s.log.WarnContext(ctx, "redisstore: instances did not confirm an ended session within the feed lease; their caches stop serving by now",
			"missing", missing, "lease", s.feedLease)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sendAck tells origin that this Store has dropped the ids of its end seq.
func (s *Store) sendAck(origin, seq string) {
	ctx, cancel := s.opCtx(s.bg)
	defer cancel()
	if err := s.publishFeed(ctx, s.client, s.ackChannel(origin), seq).Err(); err != nil && s.bg.Err() == nil {
		s.log.Warn("redisstore: acknowledge an ended session", "err", err)
	}
}

func unknownCommand(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "ERR unknown command")
}
