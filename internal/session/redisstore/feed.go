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
// <prefix>{feed}ends. Delete, after ending the record, runs a script on
// the {feed} slot that publishes "<origin> <seq> <id>..." there and, in
// the same atomic step, reads the presence set (below): the instances that
// are serving from a cache, each with how long its lease still runs. Each
// subscriber drops the ids from its cache, then publishes "<seq> <member>"
// on <prefix>{feed}ack:<origin>, which the deleting Store listens to.
// Delete returns when every present instance has answered (normally within
// a round trip), or, for one that does not, once its lease has run out: at
// most FeedLease after the publication.
//
// Presence, not PUBLISH's count, says whom to wait for: PUBLISH counts only
// the subscribers of the node that ran it, so an instance subscribed
// elsewhere (to a replica, to another Cluster node, to an isolated old
// master after a fail-over) would be neither waited for nor cut off. Each
// watch keeps a member in the sorted set <prefix>{feed}presence, scored by
// its lease's end in Redis's clock: every FeedLease/3 it runs a script on
// the {feed} slot that sets its score to Redis's now + FeedLease and
// publishes a probe "<sent>" on its own channel <prefix>{feed}probe:<member>,
// which it subscribes to on the same connection as the feed. When its own
// probe comes back through that subscription, the watch may serve from its
// cache until sent + FeedLease (sent: its own clock before the script ran,
// so that is never later than its score). Redis delivers a node's
// publications in order, also through replicas and the Cluster bus, so the
// probe's arrival proves the subscription has delivered every end
// published before the renewal, on the very node the deletes publish on.
// An instance whose renewals fail (a hung or unreachable Redis, a lost
// write) or whose subscription does not receive that node's publications
// (it hears another node) gets no probe back: its lease lapses within
// FeedLease and it serves nothing from its cache, while a Delete waits for
// it only until the score it saw, which is no earlier than that lapse. A
// renewal made after an end was published proves nothing until the end
// itself has been delivered (it comes first), so a Delete never waits in
// vain on an instance that renews meanwhile.
//
// Instances of the previous release are not present but answer "<seq>"
// acknowledgements: Delete also waits (again at most FeedLease) until it
// has as many answers as PUBLISH counted subscribers, as that release did.
//
// On Cluster the channels are shard channels (SPUBLISH/SSUBSCRIBE, Redis
// 7) and every feed key and channel is in one slot by the {feed} tag, so
// one script may touch them all.

// DefaultFeedLease is Options.FeedLease when it is 0.
const DefaultFeedLease = 500 * time.Millisecond

func (s *Store) endsChannel() string { return s.prefix + "{feed}ends" }
func (s *Store) ackChannel(origin string) string {
	return s.prefix + "{feed}ack:" + origin
}
func (s *Store) presenceKey() string { return s.prefix + "{feed}presence" }
func (s *Store) probeChannel(member string) string {
	return s.prefix + "{feed}probe:" + member
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

// ackWait is one announced end waiting for its acknowledgements.
type ackWait struct {
	need    map[string]time.Time // present members yet to answer -> when their lease ends
	early   []string             // members that answered before need was known
	got     int                  // answers of any kind
	counted int                  // subscribers PUBLISH counted; -1 until known
	changed chan struct{}        // signalled on every answer
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
				seq, member, _ := strings.Cut(m.Payload, " ")
				if n, err := strconv.ParseUint(seq, 10, 64); err == nil {
					s.acked(n, member)
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
		s.goBg(func() { sub.run(s.bg) })
	})
}

// acked records an answer to the end seq, from member ("" for an instance
// of the previous release).
func (s *Store) acked(seq uint64, member string) {
	s.acks.mu.Lock()
	defer s.acks.mu.Unlock()
	w := s.acks.wait[seq]
	if w == nil {
		return
	}
	w.got++
	if w.need != nil {
		delete(w.need, member)
	} else if member != "" {
		w.early = append(w.early, member)
	}
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// announceScript publishes an end on the feed and returns who must answer
// it: PUBLISH's count, then each present member and the milliseconds its
// lease still runs, by Redis's clock. KEYS[1] the presence set; ARGV[1]
// the channel, ARGV[2] the message, ARGV[3] "S" to SPUBLISH (Cluster).
var announceScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. string.format('%d', now), '+inf', 'WITHSCORES')
local n
if ARGV[3] == 'S' then
  n = redis.call('SPUBLISH', ARGV[1], ARGV[2])
else
  n = redis.call('PUBLISH', ARGV[1], ARGV[2])
end
local out = {n}
for i = 1, #members, 2 do
  out[#out + 1] = members[i]
  out[#out + 1] = tonumber(members[i + 1]) - now
end
return out
`)

// pubMode is announceScript's and renewScript's ARGV telling whether to
// SPUBLISH.
func (s *Store) pubMode() string {
	if s.cluster != nil {
		return "S"
	}
	return "P"
}

// announceEnd tells every watching Store that ids ended, and returns once
// each present one has dropped them from its cache or can no longer serve
// from it (at most FeedLease after the publication, or when ctx ends: then
// an error). The old plain-id change is published too, for instances of
// earlier versions.
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
	w := &ackWait{counted: -1, changed: make(chan struct{}, 1)}
	s.acks.wait[seq] = w
	s.acks.mu.Unlock()
	defer func() {
		s.acks.mu.Lock()
		delete(s.acks.wait, seq)
		s.acks.mu.Unlock()
	}()

	octx, cancel := s.opCtx(ctx)
	var res *redis.Cmd
	_, err := s.client.Pipelined(octx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			p.Publish(octx, s.changesChannel(), id)
		}
		msg := s.origin + " " + strconv.FormatUint(seq, 10) + " " + strings.Join(ids, " ")
		res = announceScript.Eval(octx, p, []string{s.presenceKey()}, s.endsChannel(), msg, s.pubMode())
		return nil
	})
	cancel()
	published := time.Now()
	if err != nil {
		if s.cluster != nil && unknownCommand(res.Err()) {
			// A Cluster of Redis < 7: nobody can subscribe to the feed,
			// no cache is served, nothing to wait for.
			return nil
		}
		return err
	}
	counted, need, err := parseAnnounce(res, published)
	if err != nil {
		return err
	}
	s.acks.mu.Lock()
	w.counted, w.need = counted, need
	for _, m := range w.early {
		delete(w.need, m)
	}
	s.acks.mu.Unlock()
	for {
		s.acks.mu.Lock()
		var until time.Time
		for m, end := range w.need {
			if !end.After(time.Now()) {
				delete(w.need, m) // its lease ran out: it serves nothing now
				continue
			}
			if end.After(until) {
				until = end
			}
		}
		if w.got < w.counted {
			if end := published.Add(s.feedLease); end.After(until) {
				until = end
			}
		}
		missing := len(w.need) + max(0, w.counted-w.got)
		s.acks.mu.Unlock()
		if until.IsZero() || !until.After(time.Now()) {
			if missing > 0 {
				s.log.WarnContext(ctx, "redisstore: instances did not confirm an ended session within their lease; their caches stop serving by now",
					"missing", missing, "lease", s.feedLease)
			}
			return nil
		}
		lease.Reset(time.Until(until))
		select {
		case <-w.changed:
		case <-lease.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// parseAnnounce reads announceScript's answer: PUBLISH's count, and when
// each present member's lease ends (measured from published, after the
// script ran, so never before the member's own lease ends).
func parseAnnounce(res *redis.Cmd, published time.Time) (int, map[string]time.Time, error) {
	vals, err := res.Slice()
	if err != nil {
		return 0, nil, err
	}
	if len(vals) == 0 || len(vals)%2 != 1 {
		return 0, nil, errors.New("unexpected answer to the announcement")
	}
	counted, _ := vals[0].(int64)
	need := make(map[string]time.Time, len(vals)/2)
	for i := 1; i < len(vals); i += 2 {
		m, _ := vals[i].(string)
		left, _ := vals[i+1].(int64)
		need[m] = published.Add(time.Duration(left) * time.Millisecond)
	}
	return int(counted), need, nil
}

// sendAck tells origin that this Store's watch member has dropped the ids
// of its end seq, unless the watch (ctx) or the store ends first.
func (s *Store) sendAck(ctx context.Context, origin, seq, member string) {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	defer context.AfterFunc(s.bg, cancel)()
	if err := s.publishFeed(ctx, s.client, s.ackChannel(origin), seq+" "+member).Err(); err != nil && s.bg.Err() == nil {
		s.log.Warn("redisstore: acknowledge an ended session", "err", err)
	}
}

// unknownCommand reports whether err says Redis does not know a command
// (SPUBLISH and SSUBSCRIBE before Redis 7), also from within a script.
func unknownCommand(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && (strings.HasPrefix(re.Error(), "ERR unknown command") ||
		strings.Contains(re.Error(), "Unknown Redis command"))
}
