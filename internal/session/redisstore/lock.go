package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// unlockScript deletes KEYS[1] only while it still holds ARGV[1], so a holder
// whose lock expired cannot release the next holder's lock.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Lock tries once to take the lock name for ttl, across every instance sharing
// this Redis (SET NX PX with a random value). ok reports whether it was taken;
// when it is held elsewhere, ok is false and err nil. err (wrapping
// session.ErrUnavailable) means Redis could not be asked.
//
// unlock is never nil and may be called any number of times; it releases the
// lock only if this holder still owns it (its ttl has not run out and nobody
// took it since), trying for at most the op timeout even after ctx ended. The lock is advisory and ends after ttl whatever the holder
// does: keep the guarded work well within ttl, and re-check state after
// taking it (e.g. reload the session before refreshing its tokens).
func (s *Store) Lock(ctx context.Context, name string, ttl time.Duration) (unlock func(), ok bool, err error) {
	noop := func() {}
	if err := s.checkOpen("lock"); err != nil {
		return noop, false, err
	}
	octx, cancel := s.opCtx(ctx)
	defer cancel()
	if name == "" || ttl < time.Millisecond {
		return noop, false, errors.New("redisstore: lock: need a name and a ttl of at least 1ms")
	}
	token := make([]byte, 16)
	_, _ = rand.Read(token) // never fails (crypto/rand, Go 1.24+)
	value := hex.EncodeToString(token)
	key := s.lockKey(name)
	err = s.client.SetArgs(octx, key, value, redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	if errors.Is(err, redis.Nil) {
		return noop, false, nil
	}
	if err != nil {
		return noop, false, unavailable("lock", err)
	}
	var once sync.Once
	unlock = func() {
		once.Do(func() {
			uctx, cancel := s.opCtx(context.WithoutCancel(ctx))
			defer cancel()
			if err := unlockScript.Run(uctx, s.client, []string{key}, value).Err(); err != nil {
				// The lock still ends at its ttl.
				s.log.WarnContext(uctx, "redisstore: unlock", "lock", name, "err", err)
			}
		})
	}
	return unlock, true, nil
}

// WaitUnlocked polls every poll (default 50ms when <= 0) until the lock name
// is free, then returns nil. It returns ctx's error (wrapped) when ctx ends
// first, and an error wrapping session.ErrUnavailable when Redis fails. It
// does not take the lock.
func (s *Store) WaitUnlocked(ctx context.Context, name string, poll time.Duration) error {
	if poll <= 0 {
		poll = 50 * time.Millisecond
	}
	key := s.lockKey(name)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("redisstore: wait for lock %q: %w", name, ctx.Err())
		case <-t.C:
		}
		if err := s.checkOpen("wait for lock"); err != nil {
			return err
		}
		octx, cancel := s.opCtx(ctx)
		n, err := s.client.Exists(octx, key).Result()
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("redisstore: wait for lock %q: %w", name, ctx.Err())
			}
			return unavailable("wait for lock", err)
		}
		if n == 0 {
			return nil
		}
		t.Reset(poll)
	}
}
