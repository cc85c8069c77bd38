package session

import (
	"fmt"
	"testing"
	"time"
)

// TestCacheWorkingSetJustOverTheBound: sessions read round robin, one more
// than the cache holds, still hit the cache almost always (the eviction
// drops a small share, not a tenth of the working set).
func TestCacheWorkingSetJustOverTheBound(t *testing.T) {
	const size = 1000
	c := newCache(time.Hour, size)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := make([]string, size+1)
	for i := range ids {
		ids[i] = fmt.Sprintf("%064d", i)
	}
	hits, reads := 0, 0
	for round := range 20 {
		for _, id := range ids {
			if _, _, ok := c.get([]byte(id), now); ok {
				if round > 0 {
					hits++
				}
			} else {
				c.put(&Session{ID: id}, now, c.generation())
			}
			if round > 0 {
				reads++
			}
		}
	}
	if ratio := float64(hits) / float64(reads); ratio < 0.97 {
		t.Fatalf("hit ratio %.3f over a working set of %d with room for %d, want >= 0.97", ratio, size+1, size)
	}
	if len(c.m) > size {
		t.Fatalf("cache holds %d entries, bound %d", len(c.m), size)
	}
}

// TestCachePutRefusedOnlyForItsOwnWrite: a load that raced a write of its
// own session is not cached; one that raced writes of other sessions is.
func TestCachePutRefusedOnlyForItsOwnWrite(t *testing.T) {
	c := newCache(time.Hour, 100)
	now := time.Now()
	gen := c.generation()
	c.drop("other-1")
	c.drop("other-2")
	c.put(&Session{ID: "mine"}, now, gen)
	if _, _, ok := c.get([]byte("mine"), now); !ok {
		t.Fatal("a load that raced writes of other sessions was not cached")
	}
	gen = c.generation()
	c.drop("other-3")
	c.drop("racy")
	c.put(&Session{ID: "racy"}, now, gen)
	if _, _, ok := c.get([]byte("racy"), now); ok {
		t.Fatal("a load that raced a write of its own session was cached")
	}
	gen = c.generation()
	c.setLive(true) // a drop of everything
	c.put(&Session{ID: "after-reset"}, now, gen)
	if _, _, ok := c.get([]byte("after-reset"), now); ok {
		t.Fatal("a load that raced a reset of the whole cache was cached")
	}
	gen = c.generation()
	for i := range dropRing + 1 {
		c.drop(fmt.Sprintf("x%d", i))
	}
	c.put(&Session{ID: "old"}, now, gen)
	if _, _, ok := c.get([]byte("old"), now); ok {
		t.Fatal("a load older than the drop ring was cached")
	}
}
