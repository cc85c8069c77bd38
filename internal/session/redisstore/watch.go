package redisstore

import (
	"context"
)

// Watch calls fn with the id of every record saved or deleted through any
// Store sharing this Redis and prefix (this one included), until ctx ends
// or the store is closed. Every Save and Delete publishes the id on the
// channel <prefix>changes, so a process caching sessions (session.Manager
// with a CacheTTL) can drop its copy at once when another instance signs a
// user out or refreshes their tokens.
//
// Delivery is best effort: go-redis resubscribes after a dropped connection,
// but messages published meanwhile are lost, so caches must still expire.
// Watch returns once the subscription is confirmed, or the error that kept
// it from being made.
func (s *Store) Watch(ctx context.Context, fn func(id string)) error {
	if err := s.checkOpen("watch"); err != nil {
		return err
	}
	ps := s.client.Subscribe(ctx, s.changesChannel())
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return unavailable("watch", err)
	}
	ch := ps.Channel()
	go func() {
		defer ps.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-ch:
				if !ok {
					return
				}
				fn(m.Payload)
			}
		}
	}()
	return nil
}
