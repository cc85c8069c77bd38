package refresh

import (
	"math/rand/v2"
	"sync"
	"time"
)

// backoff remembers, per session id, when the next refresh attempt may be
// made after transient failures: min, then doubling up to max, with ±20%
// jitter so sessions that failed together do not retry together. It is
// per process; each instance backs off on its own.
type backoff struct {
	min, max time.Duration

	mu sync.Mutex
	m  map[string]backoffEntry
}

type backoffEntry struct {
	next  time.Time
	delay time.Duration
}

func newBackoff(minDelay, maxDelay time.Duration) *backoff {
	return &backoff{min: minDelay, max: maxDelay, m: map[string]backoffEntry{}}
}

// waiting reports whether id must not be retried yet at now.
func (b *backoff) waiting(id string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.m[id]
	return ok && now.Before(e.next)
}

// fail records a failed attempt at now and returns the delay until the next.
func (b *backoff) fail(id string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := b.min
	if e, ok := b.m[id]; ok {
		d = min(2*e.delay, b.max)
	}
	b.set(id, now, d)
	return b.m[id].next.Sub(now)
}

// note starts a minimal back-off for id unless one is already running: for
// failures another instance observed.
func (b *backoff) note(id string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[id]; !ok {
		b.set(id, now, b.min)
	}
}

// clear forgets id after a success or when its session ended.
func (b *backoff) clear(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, id)
}

// set stores an entry; the caller holds mu. Entries long past their retry
// time are dropped when the map grows, so it stays bounded by the number of
// sessions failing right now.
func (b *backoff) set(id string, now time.Time, d time.Duration) {
	if len(b.m) >= maxBackoffEntries {
		for k, e := range b.m {
			if now.Sub(e.next) > b.max {
				delete(b.m, k)
			}
		}
	}
	jitter := time.Duration((rand.Float64()*0.4 - 0.2) * float64(d))
	b.m[id] = backoffEntry{next: now.Add(d + jitter), delay: d}
}
