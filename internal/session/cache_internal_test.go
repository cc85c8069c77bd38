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
			if _, _, ok := c.get(id, now); ok {
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
