// Package memstore is an in-memory session.Store: a map guarded by a RWMutex
// with a per-user index and a background purge of expired records. Sessions
// are lost on restart and not shared between instances; use it for
// development and tests.
package memstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/authbff/authbff/internal/session"
)

// DefaultCleanupInterval is how often expired records are purged by default.
const DefaultCleanupInterval = time.Minute

// Options configure a Store. The zero value is usable.
type Options struct {
	// CleanupInterval is the period of the background purge; 0 means
	// DefaultCleanupInterval, a negative value disables the purge.
	CleanupInterval time.Duration
	// Now is the clock used for expiry; nil means time.Now.
	Now func() time.Time
}

// Store is an in-memory session.Store. Create it with New and stop its
// background purge with Close.
type Store struct {
	now func() time.Time

	mu     sync.RWMutex
	recs   map[string]*session.Record
	users  map[string]map[string]struct{} // userKey -> set of ids
	closed bool

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var _ session.Store = (*Store)(nil)

// New returns an empty Store and starts its background purge.
func New(o Options) *Store {
	s := &Store{
		now:   o.Now,
		recs:  make(map[string]*session.Record),
		users: make(map[string]map[string]struct{}),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	interval := o.CleanupInterval
	if interval == 0 {
		interval = DefaultCleanupInterval
	}
	if interval < 0 {
		close(s.done)
		return s
	}
	go s.purge(interval)
	return s
}

// purge deletes expired records every interval until Close.
func (s *Store) purge(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.DeleteExpired(s.now())
		}
	}
}

// errClosed is returned by every operation after Close.
func errClosed(op string) error {
	return fmt.Errorf("memstore %s: closed: %w", op, session.ErrUnavailable)
}

// Get returns a copy of the live record id, or session.ErrNotFound.
func (s *Store) Get(_ context.Context, id string) (*session.Record, error) {
	s.mu.RLock()
	r, ok := s.recs[id]
	closed := s.closed
	var c *session.Record
	if ok && r.Expires.After(s.now()) {
		c = clone(r)
	}
	s.mu.RUnlock()
	if closed {
		return nil, errClosed("get")
	}
	if c == nil {
		return nil, session.ErrNotFound
	}
	return c, nil
}

// Save stores a copy of rec, replacing any record with the same ID; a record
// whose Expires is not after now is deleted instead.
func (s *Store) Save(_ context.Context, rec *session.Record) error {
	c := clone(rec)
	live := c.Expires.After(s.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed("save")
	}
	s.deleteLocked(c.ID)
	if !live {
		return nil
	}
	s.recs[c.ID] = c
	set := s.users[c.UserKey]
	if set == nil {
		set = make(map[string]struct{})
		s.users[c.UserKey] = set
	}
	set[c.ID] = struct{}{}
	return nil
}

// Delete removes id; a missing id is not an error.
func (s *Store) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed("delete")
	}
	s.deleteLocked(id)
	return nil
}

// deleteLocked removes id and its index entry. s.mu must be held for writing.
func (s *Store) deleteLocked(id string) {
	r, ok := s.recs[id]
	if !ok {
		return
	}
	delete(s.recs, id)
	if set := s.users[r.UserKey]; set != nil {
		delete(set, id)
		if len(set) == 0 {
			delete(s.users, r.UserKey)
		}
	}
}

// ListByUser returns copies of the live records of userKey, in no order.
func (s *Store) ListByUser(_ context.Context, userKey string) ([]*session.Record, error) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed("list by user")
	}
	set := s.users[userKey]
	out := make([]*session.Record, 0, len(set))
	for id := range set {
		if r := s.recs[id]; r != nil && r.Expires.After(now) {
			out = append(out, clone(r))
		}
	}
	return out, nil
}

// DeleteExpired removes every record whose Expires is not after now and
// returns how many it removed. The background purge calls it.
func (s *Store) DeleteExpired(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, r := range s.recs {
		if !r.Expires.After(now) {
			s.deleteLocked(id)
			n++
		}
	}
	return n
}

// Len returns the number of records held, expired or not (for tests and metrics).
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.recs)
}

// Ping returns nil unless the store is closed.
func (s *Store) Ping(context.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed("ping")
	}
	return nil
}

// Close stops the background purge and waits for it; later operations return
// an error wrapping session.ErrUnavailable. Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		select {
		case <-s.done: // purge disabled
		default:
			close(s.stop)
			<-s.done
		}
	})
	return nil
}

// clone returns a deep copy of r.
func clone(r *session.Record) *session.Record {
	c := *r
	c.Sealed = append([]byte(nil), r.Sealed...)
	return &c
}
