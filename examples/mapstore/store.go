package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/authbff/authbff/bff/store"
)

// MapStore is a store.Store written outside authbff: records, tombstones
// and markers in three maps behind one mutex. It is the shape of any store
// (a database table with a version column, a key-value service with
// conditional writes): every write of an existing record is a
// compare-and-swap on Version, Delete leaves a tombstone, lists are scans.
// Everything is lost when the process ends, and the lists scan every
// record, so it is an example, not a production store.
type MapStore struct {
	now func() time.Time

	mu     sync.Mutex
	recs   map[string]*store.Record // id -> record (possibly expired)
	tombs  map[string]time.Time     // ended id -> end of its tombstone
	marks  map[string]time.Time     // marker key -> expiry
	closed bool
}

var (
	_ store.Store  = (*MapStore)(nil)
	_ store.Purger = (*MapStore)(nil)
)

// NewMapStore returns an empty MapStore on the wall clock.
func NewMapStore() *MapStore {
	return &MapStore{
		now:   time.Now,
		recs:  map[string]*store.Record{},
		tombs: map[string]time.Time{},
		marks: map[string]time.Time{},
	}
}

var errClosed = fmt.Errorf("mapstore: closed: %w", store.ErrUnavailable)

// clone returns a deep copy of r: callers never share memory with the store.
func clone(r *store.Record) *store.Record {
	c := *r
	c.Sealed = append([]byte(nil), r.Sealed...)
	c.Revoke = append([]byte(nil), r.Revoke...)
	return &c
}

// live returns the unexpired record id; mu must be held.
func (s *MapStore) live(id string, now time.Time) *store.Record {
	if r, ok := s.recs[id]; ok && r.Expires.After(now) {
		return r
	}
	return nil
}

// Get returns a copy of the live record id, or store.ErrNotFound.
func (s *MapStore) Get(_ context.Context, id string) (*store.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	r := s.live(id, s.now())
	if r == nil {
		return nil, store.ErrNotFound
	}
	return clone(r), nil
}

// Create stores rec unless its id holds a live record or a tombstone.
func (s *MapStore) Create(_ context.Context, rec *store.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	now := s.now()
	if s.live(rec.ID, now) != nil || s.tombs[rec.ID].After(now) {
		return store.ErrConflict
	}
	if !rec.Expires.After(now) {
		return nil
	}
	s.recs[rec.ID] = clone(rec)
	return nil
}

// Update replaces the live record rec.ID while it is at version.
func (s *MapStore) Update(_ context.Context, rec *store.Record, version int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	now := s.now()
	cur := s.live(rec.ID, now)
	switch {
	case cur == nil || s.tombs[rec.ID].After(now):
		return store.ErrNotFound
	case cur.Version != version:
		return store.ErrConflict
	case !rec.Expires.After(now):
		return store.ErrNotFound
	}
	s.recs[rec.ID] = clone(rec)
	return nil
}

// Delete ends id: the record goes, a tombstone stays until until or the
// record's expiry, whichever is later. It returns the record as it was.
func (s *MapStore) Delete(_ context.Context, id string, until time.Time) (*store.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	cur := s.live(id, s.now())
	if cur == nil {
		return nil, nil
	}
	delete(s.recs, id)
	end := until
	if cur.Expires.After(end) {
		end = cur.Expires
	}
	s.tombs[id] = end
	return cur, nil // no longer in the map: nobody else holds it
}

// list returns copies of the live records match accepts.
func (s *MapStore) list(match func(*store.Record) bool) ([]*store.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	now := s.now()
	var out []*store.Record
	for _, r := range s.recs {
		if r.Expires.After(now) && match(r) {
			out = append(out, clone(r))
		}
	}
	return out, nil
}

// ListByUser returns the live records of userKey.
func (s *MapStore) ListByUser(_ context.Context, userKey string) ([]*store.Record, error) {
	return s.list(func(r *store.Record) bool { return r.UserKey == userKey })
}

// ListBySID returns the live records of one IdP session.
func (s *MapStore) ListBySID(_ context.Context, sidKey string) ([]*store.Record, error) {
	return s.list(func(r *store.Record) bool { return r.SID != "" && r.SIDKey() == sidKey })
}

// MarkUsed records key until expires and reports whether it was already
// marked.
func (s *MapStore) MarkUsed(_ context.Context, key string, expires time.Time) (bool, error) {
	if key == "" {
		return false, errors.New("mapstore: empty marker key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, errClosed
	}
	now := s.now()
	if s.marks[key].After(now) {
		return true, nil
	}
	if expires.After(now) {
		s.marks[key] = expires
	}
	return false, nil
}

// UnmarkUsed removes the marker key.
func (s *MapStore) UnmarkUsed(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	delete(s.marks, key)
	return nil
}

// DeleteExpired removes what expired by now (store.Purger); a real
// deployment would call it on a timer.
func (s *MapStore) DeleteExpired(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errClosed
	}
	n := 0
	for id, r := range s.recs {
		if !r.Expires.After(now) {
			delete(s.recs, id)
			n++
		}
	}
	for k, end := range s.tombs {
		if !end.After(now) {
			delete(s.tombs, k)
		}
	}
	for k, exp := range s.marks {
		if !exp.After(now) {
			delete(s.marks, k)
		}
	}
	return n, nil
}

// Ping reports whether the store is open.
func (s *MapStore) Ping(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	return nil
}

// Close closes the store; later calls fail with store.ErrUnavailable.
func (s *MapStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
