package session

import "sync"

// subscribers are the callbacks of Subscribe by session id. The zero value
// is ready.
type subscribers struct {
	mu sync.Mutex
	m  map[string]map[*func()]struct{}
}

// Subscribe calls fn (from another goroutine; it must not block) whenever
// session id may have changed or ended: a write or an end on this
// instance, or another instance's through the store's change feed (Redis,
// Postgres, while the feed is live). It is a hint, with no guarantee of
// delivery: a caller that must notice an end within a bound (an open
// WebSocket) re-reads the session when called and also at an interval.
// stop removes the subscription.
func (m *Manager) Subscribe(id string, fn func()) (stop func()) {
	s := &m.subs
	key := &fn
	s.mu.Lock()
	if s.m == nil {
		s.m = map[string]map[*func()]struct{}{}
	}
	if s.m[id] == nil {
		s.m[id] = map[*func()]struct{}{}
	}
	s.m[id][key] = struct{}{}
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.m[id], key)
		if len(s.m[id]) == 0 {
			delete(s.m, id)
		}
		s.mu.Unlock()
	}
}

// changed is the change feed's callback: the cache forgets id and the
// subscribers are told.
func (m *Manager) changed(id string) {
	m.cache.drop(id)
	m.subs.notify(id)
}

// notify calls id's subscribers (one uncontended lock when there are none).
func (s *subscribers) notify(id string) {
	s.mu.Lock()
	if len(s.m) == 0 {
		s.mu.Unlock()
		return
	}
	fns := make([]func(), 0, len(s.m[id]))
	for f := range s.m[id] {
		fns = append(fns, *f)
	}
	s.mu.Unlock()
	for _, f := range fns {
		f()
	}
}
