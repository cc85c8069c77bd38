// Package memstore is an in-memory session.Store for one process: records
// in an off-heap arena (see arena.go) found through pointer-free tables - a
// map from the record id's 32 bytes to a slot, and per-user and
// per-IdP-session lists threaded through the slots - all under one RWMutex,
// plus a map of one-time markers and a background purge of expired records
// and markers. Sessions are lost on restart and not shared between
// instances.
//
// A million sessions cost the garbage collector next to nothing: the Go heap
// holds a few pointer-free tables (~150 B per session), the records' bytes
// live outside it, and Get decodes a fresh copy from them as the bolt store
// does from its file.
package memstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
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

// key is a record id as a fixed-size, pointer-free map key: kind 0 and the
// 32 bytes of a canonical id (64 lowercase hex digits, hex(SHA-256) of the
// cookie token, what the Manager makes), or kind 1 and the SHA-256 of any
// other id string.
type key [33]byte

func keyOf(id string) key {
	var k key
	if len(id) == 64 {
		bad := byte(0)
		for i := range 32 {
			hi, lo := hexval[id[2*i]], hexval[id[2*i+1]]
			bad |= hi | lo
			k[1+i] = hi<<4 | lo&0x0f
		}
		if bad&0x80 == 0 {
			return k
		}
	}
	sum := sha256.Sum256([]byte(id))
	k[0] = 1
	copy(k[1:], sum[:])
	return k
}

// hexval maps a lowercase hex digit to its value and any other byte to 0xff.
var hexval = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()

// The two secondary indexes: by Record.UserKey and by Record.SIDKey().
const (
	byUser = iota
	bySID
	nIndexes
)

// none ends a slot list.
const none = ^uint32(0)

// slot is one stored record's entry in the tables. Its list links make the
// per-user and per-IdP-session sets without any per-set allocation; the
// lists are keyed by a hash of the index key, so a collision only merges two
// lists, and list filters on the decoded record.
type slot struct {
	k       key
	ci, off uint32 // the record's entry in the arena
	expSec  int64  // Expires, without a *time.Location (pointer-free)
	expNsec int32
	version int64 // the record's Version, for Update's compare-and-swap
	used    bool
	indexed [nIndexes]bool
	hash    [nIndexes]uint64
	prev    [nIndexes]uint32
	next    [nIndexes]uint32
}

func (sl *slot) liveAt(now time.Time) bool {
	sec := now.Unix()
	return sl.expSec > sec || (sl.expSec == sec && sl.expNsec > int32(now.Nanosecond()))
}

// Store is an in-memory session.Store. Create it with New and stop its
// background purge with Close.
type Store struct {
	now  func() time.Time
	seed maphash.Seed

	mu        sync.RWMutex
	ids       map[key]uint32 // record id -> slot
	slots     []slot
	freeSlots []uint32
	heads     [nIndexes]map[uint64]uint32 // index key hash -> first slot
	arena     *arena
	marks     map[string]time.Time // MarkUsed key -> expiry
	tombs     map[key]int64        // ended record id -> tombstone end (Unix ns)
	closed    bool

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var (
	_ session.Store  = (*Store)(nil)
	_ session.Purger = (*Store)(nil)
)

// New returns an empty Store and starts its background purge.
func New(o Options) *Store {
	s := &Store{
		now:   o.Now,
		seed:  maphash.MakeSeed(),
		ids:   make(map[key]uint32),
		marks: make(map[string]time.Time),
		tombs: make(map[key]int64),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	for x := range s.heads {
		s.heads[x] = make(map[uint64]uint32)
	}
	s.arena = newArena(s.isAt, s.moveTo)
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

// isAt reports whether slot si holds the arena entry at (ci, off).
func (s *Store) isAt(si, ci, off uint32) bool {
	if int(si) >= len(s.slots) {
		return false
	}
	sl := &s.slots[si]
	return sl.used && sl.ci == ci && sl.off == off
}

// moveTo records that the arena moved slot si's entry to (ci, off).
func (s *Store) moveTo(si, ci, off uint32) { s.slots[si].ci, s.slots[si].off = ci, off }

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
			_, _ = s.DeleteExpired(context.Background(), s.now()) // fails only once closed
		}
	}
}

// errClosed is returned by every operation after Close.
func errClosed(op string) error {
	return fmt.Errorf("memstore %s: closed: %w", op, session.ErrUnavailable)
}

// Get returns a copy of the live record id, or session.ErrNotFound.
func (s *Store) Get(_ context.Context, id string) (*session.Record, error) {
	k := keyOf(id)
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed("get")
	}
	si, ok := s.ids[k]
	if !ok || !s.slots[si].liveAt(now) {
		return nil, session.ErrNotFound
	}
	sl := &s.slots[si]
	_, rest, err := splitPayload(s.arena.payload(sl.ci, sl.off))
	if err != nil {
		return nil, fmt.Errorf("memstore get: %w: %w", session.ErrUnavailable, err)
	}
	r, err := session.UnmarshalRecord(id, rest)
	if err != nil {
		return nil, fmt.Errorf("memstore get: %w: %w", session.ErrUnavailable, err)
	}
	return r, nil
}

// payload is what the arena holds for a record: its id (a uvarint length,
// then the bytes) and session.AppendRecord's stored form.
func payload(r *session.Record) []byte {
	b := make([]byte, 0, binary.MaxVarintLen32+len(r.ID)+64+len(r.UserKey)+len(r.SID)+len(r.UserAgent)+len(r.Sealed))
	b = binary.AppendUvarint(b, uint64(len(r.ID)))
	b = append(b, r.ID...)
	return session.AppendRecord(b, r)
}

func splitPayload(p []byte) (id, rest []byte, err error) {
	n, w := binary.Uvarint(p)
	if w <= 0 || n > uint64(len(p)-w) {
		return nil, nil, session.ErrCorruptRecord
	}
	return p[w : w+int(n)], p[w+int(n):], nil
}

// decode returns a copy of the record in slot si.
func (s *Store) decode(si uint32) (*session.Record, error) {
	sl := &s.slots[si]
	id, rest, err := splitPayload(s.arena.payload(sl.ci, sl.off))
	if err != nil {
		return nil, err
	}
	return session.UnmarshalRecord(string(id), rest)
}

// Create stores a copy of rec unless its id holds a live record or a
// tombstone (session.ErrConflict); a record whose Expires is not after now
// is not stored.
func (s *Store) Create(_ context.Context, rec *session.Record) error {
	k := keyOf(rec.ID)
	p := payload(rec)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed("create")
	}
	if s.tombstoned(k, now) {
		return fmt.Errorf("memstore create: ended: %w", session.ErrConflict)
	}
	if si, ok := s.ids[k]; ok && s.slots[si].liveAt(now) {
		return fmt.Errorf("memstore create: exists: %w", session.ErrConflict)
	}
	if !rec.Expires.After(now) {
		return nil
	}
	return s.writeLocked(k, rec, p)
}

// Update replaces the live record rec.ID if it is at version: the check and
// the write happen under one lock.
func (s *Store) Update(_ context.Context, rec *session.Record, version int64) error {
	k := keyOf(rec.ID)
	p := payload(rec)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed("update")
	}
	si, ok := s.ids[k]
	switch {
	case s.tombstoned(k, now) || !ok || !s.slots[si].liveAt(now):
		return fmt.Errorf("memstore update: %w", session.ErrNotFound)
	case s.slots[si].version != version:
		return fmt.Errorf("memstore update: at v%d, not v%d: %w", s.slots[si].version, version, session.ErrConflict)
	case !rec.Expires.After(now):
		return fmt.Errorf("memstore update: expiry in the past: %w", session.ErrNotFound)
	}
	return s.writeLocked(k, rec, p)
}

// tombstoned reports whether k holds a live tombstone. s.mu is held.
func (s *Store) tombstoned(k key, now time.Time) bool {
	end, ok := s.tombs[k]
	return ok && end > now.UnixNano()
}

// writeLocked stores p, the payload of rec, as record k, replacing any
// other. s.mu is held for writing.
func (s *Store) writeLocked(k key, rec *session.Record, p []byte) error {
	// The new entry first: if there is no memory for it, the old version
	// is still there.
	si := s.newSlot()
	ci, off, dst, err := s.arena.alloc(si, len(p))
	if err != nil {
		s.freeSlots = append(s.freeSlots, si)
		return fmt.Errorf("memstore write: %w: %w", session.ErrUnavailable, err)
	}
	copy(dst, p)
	s.deleteLocked(k)
	sl := &s.slots[si]
	*sl = slot{k: k, ci: ci, off: off, expSec: rec.Expires.Unix(), expNsec: int32(rec.Expires.Nanosecond()), version: rec.Version, used: true}
	s.ids[k] = si
	s.link(byUser, si, rec.UserKey)
	if sidKey := rec.SIDKey(); sidKey != "" {
		s.link(bySID, si, sidKey)
	}
	return nil
}

func (s *Store) newSlot() uint32 {
	if n := len(s.freeSlots); n > 0 {
		si := s.freeSlots[n-1]
		s.freeSlots = s.freeSlots[:n-1]
		return si
	}
	s.slots = append(s.slots, slot{})
	return uint32(len(s.slots) - 1)
}

func (s *Store) hash(indexKey string) uint64 { return maphash.String(s.seed, indexKey) }

// link puts slot si at the front of index x's list for indexKey.
func (s *Store) link(x int, si uint32, indexKey string) {
	h := s.hash(indexKey)
	sl := &s.slots[si]
	sl.indexed[x], sl.hash[x], sl.prev[x], sl.next[x] = true, h, none, none
	if head, ok := s.heads[x][h]; ok {
		sl.next[x] = head
		s.slots[head].prev[x] = si
	}
	s.heads[x][h] = si
}

// unlink takes slot si out of index x's list.
func (s *Store) unlink(x int, si uint32) {
	sl := &s.slots[si]
	if !sl.indexed[x] {
		return
	}
	p, n := sl.prev[x], sl.next[x]
	if p != none {
		s.slots[p].next[x] = n
	} else if n != none {
		s.heads[x][sl.hash[x]] = n
	} else {
		delete(s.heads[x], sl.hash[x])
	}
	if n != none {
		s.slots[n].prev[x] = p
	}
	sl.indexed[x] = false
}

// Delete ends id: it removes the live record, leaves a tombstone until
// until (or the record's expiry, if later) and returns the record; with no
// live record it does nothing and returns nil, nil.
func (s *Store) Delete(_ context.Context, id string, until time.Time) (*session.Record, error) {
	k := keyOf(id)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed("delete")
	}
	si, ok := s.ids[k]
	if !ok {
		return nil, nil
	}
	if !s.slots[si].liveAt(now) {
		s.deleteLocked(k)
		return nil, nil
	}
	rec, err := s.decode(si)
	if err != nil {
		return nil, fmt.Errorf("memstore delete: %w: %w", session.ErrUnavailable, err)
	}
	s.deleteLocked(k)
	end := until.UnixNano()
	if e := rec.Expires.UnixNano(); e > end {
		end = e
	}
	s.tombs[k] = end
	return rec, nil
}

// deleteLocked removes the record k and its index entries. s.mu must be held
// for writing.
func (s *Store) deleteLocked(k key) {
	si, ok := s.ids[k]
	if !ok {
		return
	}
	delete(s.ids, k)
	for x := range nIndexes {
		s.unlink(x, si)
	}
	sl := &s.slots[si]
	ci, off := sl.ci, sl.off
	*sl = slot{} // not live: compaction must not move the entry freed next
	s.freeSlots = append(s.freeSlots, si)
	s.arena.free(ci, off)
}

// ListByUser returns copies of the live records of userKey, in no order.
func (s *Store) ListByUser(_ context.Context, userKey string) ([]*session.Record, error) {
	return s.list("list by user", byUser, userKey, func(r *session.Record) bool { return r.UserKey == userKey })
}

// ListBySID returns copies of the live records whose SIDKey is sidKey, in no
// order.
func (s *Store) ListBySID(_ context.Context, sidKey string) ([]*session.Record, error) {
	return s.list("list by sid", bySID, sidKey, func(r *session.Record) bool { return r.SIDKey() == sidKey })
}

// list returns copies of the live records on index x's list for indexKey
// that match (the list is by hash: a colliding key's records are on it too).
func (s *Store) list(op string, x int, indexKey string, match func(*session.Record) bool) ([]*session.Record, error) {
	h := s.hash(indexKey)
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed(op)
	}
	var out []*session.Record
	si, ok := s.heads[x][h]
	for ok && si != none {
		sl := &s.slots[si]
		if sl.liveAt(now) {
			r, err := s.decode(si)
			if err != nil {
				return nil, fmt.Errorf("memstore %s: %w: %w", op, session.ErrUnavailable, err)
			}
			if match(r) {
				out = append(out, r)
			}
		}
		si = sl.next[x]
	}
	if out == nil {
		out = []*session.Record{}
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
// now, and every tombstone past its end, and returns how many records it
// removed (session.Purger). The background purge calls it. On a closed store
// it removes nothing and the error wraps session.ErrUnavailable.
func (s *Store) DeleteExpired(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errClosed("delete expired")
	}
	n := 0
	for si := range s.slots {
		if sl := &s.slots[si]; sl.used && !sl.liveAt(now) {
			s.deleteLocked(sl.k)
			n++
		}
	}
	for k, exp := range s.marks {
		if !exp.After(now) {
			delete(s.marks, k)
		}
	}
	for k, end := range s.tombs {
		if end <= now.UnixNano() {
			delete(s.tombs, k)
		}
	}
	return n, nil
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
	return len(s.ids)
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
		s.arena.releaseAll()
		s.ids, s.slots, s.freeSlots, s.tombs = nil, nil, nil, nil
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
