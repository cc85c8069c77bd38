// Package testclock is the settable clock the tests of every package
// inject where the code takes a `func() time.Time` (pass clock.Now).
package testclock

import (
	"sync"
	"time"
)

// Clock is a goroutine-safe clock that only moves when told to.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock reading t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Add moves the clock forward by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Advance is Add.
func (c *Clock) Advance(d time.Duration) { c.Add(d) }
