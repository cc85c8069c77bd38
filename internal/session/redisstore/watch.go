package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// watchRetry is how long Watch waits between attempts to (re)subscribe.
const watchRetry = 100 * time.Millisecond

// Watch reports, until ctx ends or the store is closed, every record saved
// or deleted through any Store sharing this Redis and prefix (this one
// included): every Save and Delete publishes the id on the channel
// <prefix>changes. A process caching sessions (session.Manager with a
// CacheTTL) drops its copy at once when another instance signs a user out or
// refreshes their tokens.
//
// healthy(true) is called once the subscription is live, and again after
// every reconnection; healthy(false) as soon as the connection is lost (Redis
// stopped, network error). Between the two, changes may be missed, so a
// cache must not serve anything it holds. Watch returns at once; the
// subscription is made and kept in the background.
func (s *Store) Watch(ctx context.Context, changed func(id string), healthy func(ok bool)) {
	ps := s.client.Subscribe(ctx) // subscribes lazily, in the loop
	go func() {
		defer ps.Close()
		up := false
		if err := ps.Subscribe(ctx, s.changesChannel()); err != nil && !errors.Is(err, redis.ErrClosed) {
			healthy(false)
		}
		for {
			msg, err := ps.Receive(ctx)
			if ctx.Err() != nil || errors.Is(err, redis.ErrClosed) || s.closed.Load() {
				return
			}
			if err != nil {
				if up {
					s.log.Warn("redisstore: lost the change subscription; cached sessions are bypassed until it is back", "err", err)
				}
				up = false
				healthy(false)
				select {
				case <-ctx.Done():
					return
				case <-time.After(watchRetry):
				}
				continue
			}
			switch m := msg.(type) {
			case *redis.Subscription:
				if m.Kind == "subscribe" && !up {
					up = true
					healthy(true)
				}
			case *redis.Message:
				changed(m.Payload)
			}
		}
	}()
}
