package redisstore

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// renewScript renews a watch's presence (see feed.go): its score becomes
// Redis's now + the lease, members whose lease ended are dropped, the set
// expires with its longest lease, and a probe goes out on the member's own
// channel. KEYS[1] the presence set; ARGV[1] the member, ARGV[2] the lease
// in ms, ARGV[3] the probe channel, ARGV[4] the probe, ARGV[5] "S" to
// SPUBLISH (Cluster).
var renewScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], string.format('%d', now + tonumber(ARGV[2])), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now))
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], top[2])
if ARGV[5] == 'S' then
  redis.call('SPUBLISH', ARGV[3], ARGV[4])
else
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return 1
`)

// presence is one watch's member of the presence set and its lease.
type presence struct {
	s      *Store
	member string
	// until is when the lease ends, in nanoseconds since s.base; 0: none.
	// It is extended only when a probe comes back through the feed
	// subscription.
	until atomic.Int64
}

// current reports whether the lease holds.
func (p *presence) current() bool { return int64(time.Since(p.s.base)) < p.until.Load() }

// probed extends the lease after the probe sent at sent (since s.base)
// came back: the renewal ran after sent, so its score in Redis ends no
// earlier than sent + FeedLease.
func (p *presence) probed(payload string) {
	sent, err := strconv.ParseInt(payload, 10, 64)
	if err != nil {
		return
	}
	until := sent + int64(p.s.feedLease)
	for {
		cur := p.until.Load()
		if cur >= until || p.until.CompareAndSwap(cur, until) {
			return
		}
	}
}

// lost ends the lease at once (the feed subscription went down).
func (p *presence) lost() { p.until.Store(0) }

// run renews the presence every FeedLease/3 until ctx ends or the store is
// closed, then withdraws it so that Deletes stop waiting for it.
func (p *presence) run(ctx context.Context) {
	s := p.s
	every := max(s.feedLease/3, time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		sent := time.Since(s.base)
		rctx, cancel := context.WithTimeout(ctx, s.feedLease)
		err := renewScript.Run(rctx, s.client, []string{s.presenceKey()},
			p.member, s.feedLease.Milliseconds(), s.probeChannel(p.member),
			strconv.FormatInt(int64(sent), 10), s.pubMode()).Err()
		cancel()
		if err != nil && ctx.Err() == nil && s.bg.Err() == nil {
			s.reloadOnError(err)
			s.log.Debug("redisstore: renew the feed's presence", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-s.bg.Done():
		case <-t.C:
			continue
		}
		break
	}
	p.lost()
	if s.closed.Load() && s.ownClient {
		return // the client is closed; the entry lapses within FeedLease
	}
	wctx, cancel := context.WithTimeout(context.Background(), min(s.feedLease, time.Second))
	defer cancel()
	_ = s.client.ZRem(wctx, s.presenceKey(), p.member).Err()
}
