package session

import (
	"sync"
	"time"
)

// cache keeps recently loaded sessions, opened, so the hot path (GET
// /session on every page load, tab focus and poll) skips the store round
// trip and the decryption. Entries are keyed by record id (the SHA-256 of the
// cookie token), so only the holder of the token can hit one.
//
// Every write through the Manager updates or drops the entry, so a cache in
// front of a store that only this process writes (memory, bolt) is exact.
// With a shared store (Redis) the store's change feed drops what other
// instances change; with a LeasedWatcher a session another instance ended is
// never served once its Delete has returned, other changes (a refresh) are
// seen within milliseconds, and in any case after at most the TTL.
type cache struct {
	ttl     time.Duration
	max     int
	current func() bool // nil: always; else serve only while it is true

	mu   sync.RWMutex
	m    map[string]cacheEntry
	gen  uint64 // bumped by every drop: a put of a read older than a write of its id is refused
	dead bool   // the store's change feed is down: serve and keep nothing
	// dropped[g % len] is the id the drop that made generation g dropped
	// ("" for a drop of everything): a put older than a few drops can tell
	// whether one of them was of its own id, so a write of one session does
	// not keep every other session being read at that moment out of the
	// cache.
	dropped [dropRing]string
}

// dropRing is how many recent drops put can look back over.
const dropRing = 1024

type cacheEntry struct {
	s    *Session // a copy made by put, never modified: get hands it out shared
	at   time.Time
	json []byte // rendered by the caller, see Manager.LoadJSON and SetJSON
}

func newCache(ttl time.Duration, max int) *cache {
	if ttl <= 0 {
		return nil
	}
	if max <= 0 {
		max = 100_000
	}
	return &cache{ttl: ttl, max: max, m: make(map[string]cacheEntry)}
}

// get returns a fresh entry's session, shared: callers must not modify it.
// id is the session id's bytes (looked up without a string allocation).
func (c *cache) get(id []byte, now time.Time) (*Session, []byte, bool) {
	c.mu.RLock()
	e, ok := c.m[string(id)]
	dead := c.dead
	c.mu.RUnlock()
	if !ok || dead || now.Sub(e.at) >= c.ttl || now.Before(e.at) || (c.current != nil && !c.current()) {
		return nil, nil, false
	}
	return e.s, e.json, true
}

// generation returns the current write generation; pass it to put.
func (c *cache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put caches s as read by a load that started at generation gen; if any
// write dropped an entry since, the read may be stale and is not cached.
func (c *cache) put(s *Session, now time.Time, gen uint64) {
	cp := *s
	cp.Extended = false
	e := cacheEntry{s: &cp, at: now}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead || !c.unchangedSince(s.ID, gen) {
		return
	}
	if _, cached := c.m[s.ID]; !cached && len(c.m) >= c.max {
		c.evict(now)
	}
	c.m[s.ID] = e
}

// unchangedSince reports whether no drop since generation gen was of id
// (or of everything); too long ago to tell is "changed". c.mu is held.
func (c *cache) unchangedSince(id string, gen uint64) bool {
	if c.gen == gen {
		return true
	}
	if c.gen-gen > dropRing {
		return false
	}
	for g := gen + 1; g <= c.gen; g++ {
		if d := c.dropped[g%dropRing]; d == "" || d == id {
			return false
		}
	}
	return true
}

// evict makes room when the cache is full: expired entries first, else
// about 1% of the entries in map order (random enough for a bound). A small
// share matters: every dropped entry costs a store read at its next use,
// and with a working set just over the bound a large drop (it used to be a
// tenth) would keep a tenth of the working set out of the cache.
func (c *cache) evict(now time.Time) {
	n := max(1, c.max/100)
	for k, e := range c.m {
		if now.Sub(e.at) >= c.ttl || now.Before(e.at) {
			delete(c.m, k)
			n--
		}
		if n <= 0 {
			return
		}
	}
	for k := range c.m {
		delete(c.m, k)
		if n--; n <= 0 {
			return
		}
	}
}

// setJSON attaches the rendered session JSON to the entry of s, if it is
// still the same version.
func (c *cache) setJSON(s *Session, b []byte) {
	c.mu.Lock()
	if e, ok := c.m[s.ID]; ok && e.s.Version == s.Version && e.s.Expires.Equal(s.Expires) {
		e.json = b
		c.m[s.ID] = e
	}
	c.mu.Unlock()
}

// setLive follows the store's change feed: when it goes down (or comes back,
// having possibly missed changes) everything cached is dropped; while it is
// down nothing is served or kept.
func (c *cache) setLive(ok bool) {
	c.mu.Lock()
	clear(c.m)
	c.gen++
	c.dropped[c.gen%dropRing] = "" // everything
	c.dead = !ok
	c.mu.Unlock()
}

func (c *cache) drop(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.gen++
	c.dropped[c.gen%dropRing] = id
	c.mu.Unlock()
}
