// Package memstore is an in-memory session.Store: a map guarded by a RWMutex
// with per-user and per-IdP-session indexes, a map of one-time markers, and a
// background purge of expired records and markers. Sessions
// are lost on restart and not shared between instances; use it for
// development and tests.
package memstore

import (
	"context"
	"errors"
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
	sids   map[string]map[string]struct{} // Record.SIDKey() -> set of ids
	marks  map[string]time.Time           // MarkUsed key -> expiry
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
		sids:  make(map[string]map[string]struct{}),
		marks: make(map[string]time.Time),
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
	addIndex(s.users, c.UserKey, c.ID)
	if k := c.SIDKey(); k != "" {
		addIndex(s.sids, k, c.ID)
	}
	return nil
}

// addIndex adds id to the set idx[key].
func addIndex(idx map[string]map[string]struct{}, key, id string) {
	set := idx[key]
	if set == nil {
		set = make(map[string]struct{})
		idx[key] = set
	}
	set[id] = struct{}{}
}

// removeIndex removes id from the set idx[key], dropping an empty set.
func removeIndex(idx map[string]map[string]struct{}, key, id string) {
	if set := idx[key]; set != nil {
		delete(set, id)
		if len(set) == 0 {
			delete(idx, key)
		}
	}
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

// deleteLocked removes id and its index entries. s.mu must be held for writing.
func (s *Store) deleteLocked(id string) {
	r, ok := s.recs[id]
	if !ok {
		return
	}
	delete(s.recs, id)
	removeIndex(s.users, r.UserKey, id)
	if k := r.SIDKey(); k != "" {
		removeIndex(s.sids, k, id)
	}
}

// ListByUser returns copies of the live records of userKey, in no order.
func (s *Store) ListByUser(_ context.Context, userKey string) ([]*session.Record, error) {
	return s.list("list by user", s.users, userKey)
}

// ListBySID returns copies of the live records whose SIDKey is sidKey, in no
// order.
func (s *Store) ListBySID(_ context.Context, sidKey string) ([]*session.Record, error) {
	return s.list("list by sid", s.sids, sidKey)
}

// list returns copies of the live records in the set idx[key].
func (s *Store) list(op string, idx map[string]map[string]struct{}, key string) ([]*session.Record, error) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed(op)
	}
	set := idx[key]
	out := make([]*session.Record, 0, len(set))
	for id := range set {
		if r := s.recs[id]; r != nil && r.Expires.After(now) {
			out = append(out, clone(r))
		}
	}
	return out, nil
}

// MarkUsed records key until expires unless a live marker exists; the check
// and the write happen under one lock.
func (s *Store) MarkUsed(_ context.Context, key string, expires time.Time) (bool, error) {
	if key == "" {
		return false, errors.New("memstore mark used: empty marker key")
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, errClosed("mark used")
	}
	if exp, ok := s.marks[key]; ok && exp.After(now) {
		return true, nil
	}
	if expires.After(now) {
		s.marks[key] = expires
	} else {
		delete(s.marks, key)
	}
	return false, nil
}

// UnmarkUsed removes the marker key; a missing marker is not an error.
func (s *Store) UnmarkUsed(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed("unmark used")
	}
	delete(s.marks, key)
	return nil
}

// DeleteExpired removes every record and marker whose expiry is not after
// now and returns how many records it removed. The background purge calls it.
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
	for k, exp := range s.marks {
		if !exp.After(now) {
			delete(s.marks, k)
		}
	}
	return n
}

// Markers returns the number of markers held, expired or not (for tests).
func (s *Store) Markers() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.marks)
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
