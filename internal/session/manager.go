package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for ManagerOptions.
const (
	// DefaultMaxAge is the idle lifetime of a session (NextAuth's default).
	DefaultMaxAge = 30 * 24 * time.Hour
	// DefaultUpdateAge is how often the expiry slides (NextAuth's default).
	DefaultUpdateAge = 24 * time.Hour
	// DefaultMaxPerUser is how many live sessions one user may hold.
	DefaultMaxPerUser = 50
	// DefaultAbsoluteLifetime is how long after sign-in a session ends,
	// however active it is.
	DefaultAbsoluteLifetime = 30 * 24 * time.Hour
	// MinSecretLen is the minimum length of every secret, in bytes.
	MinSecretLen = 32
	// maxUserAgent bounds the stored User-Agent, in bytes.
	maxUserAgent = 512
)

// ManagerOptions configure a Manager. Store and Secrets are required.
type ManagerOptions struct {
	// Store persists the records.
	Store Store
	// Secrets are the server secrets: the first seals, every one is tried when
	// opening (current first), so previous secrets keep old sessions readable
	// during a rotation. Each must be at least MinSecretLen bytes.
	Secrets [][]byte
	// MaxAge is how long a session lives without activity; 0 means DefaultMaxAge.
	MaxAge time.Duration
	// AbsoluteLifetime is how long after its creation a session ends however
	// active it is: the sliding expiry never passes Created+AbsoluteLifetime,
	// and a session past it is not found. 0 means DefaultAbsoluteLifetime.
	AbsoluteLifetime time.Duration
	// MaxPerUser caps the live sessions of one user (one UserKey): Create
	// ends the least recently active ones (by LastSeen, then Created) so that
	// at most MaxPerUser remain, the new one included. 0 means
	// DefaultMaxPerUser.
	MaxPerUser int
	// UpdateAge is how often a Load slides the expiry; 0 means DefaultUpdateAge.
	UpdateAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives diagnostics (never tokens or secrets); nil discards.
	Logger *slog.Logger
	// CacheTTL keeps loaded sessions in memory for this long (0: no cache).
	// Writes through this Manager update the cache at once; writes by other
	// processes sharing the store are seen after at most CacheTTL, or sooner
	// through a Watcher store's change feed; with a LeasedWatcher (Redis) a
	// session another process ended is never served once its end returned.
	CacheTTL time.Duration
	// CacheSize bounds the cached sessions (default 100,000).
	CacheSize int
	// Revoke, when set, is called with the refresh token of every session
	// this Manager ends (sign-out, DeleteID, DeleteUser, DeleteSID, the
	// per-user cap, the absolute lifetime), read from the record as it was
	// when it ended (Record.Revoke). It runs in its own goroutine, never
	// delaying the end; it must bound its own duration (Close waits for it).
	Revoke func(ctx context.Context, provider, refreshToken string)
	// Ended, when set, is told of the sessions this Manager ends on its own
	// initiative: the per-user cap (the others are ended at a caller's
	// request, which knows; a session past its absolute lifetime expires
	// like any other). It runs in the ending request's goroutine and must
	// be quick.
	Ended func(ctx context.Context, e Ended)
}

// Ended describes a session the Manager ended on its own initiative.
type Ended struct {
	// ID is the session's id.
	ID string
	// Provider and Subject name the user (empty when unknown).
	Provider, Subject string
	// Reason is "per_user_cap".
	Reason string
}

// Manager creates, loads (with sliding expiry), saves and deletes sessions,
// sealing their Data so the store never holds readable tokens. It is safe for
// concurrent use.
type Manager struct {
	subs      subscribers // Subscribe's (notify.go)
	store     Store
	sealers   atomic.Pointer[[]*sealer] // [0] is current; SetSecrets swaps it
	maxAge    time.Duration
	updateAge time.Duration
	absolute  time.Duration
	maxPer    int
	now       func() time.Time
	log       *slog.Logger
	bufs      sync.Pool // of *[]byte plaintext scratch
	cache     *cache    // nil when CacheTTL is 0
	stopWatch context.CancelFunc
	watchCtx  context.Context // the watch's, for WatchWaiter
	revoke    func(ctx context.Context, provider, refreshToken string)
	ended     func(ctx context.Context, e Ended)
	revoking  sync.WaitGroup
	revokeSem chan struct{} // bounds concurrent Revoke calls

	cacheHits, cacheMisses atomic.Uint64
}

// NewManager validates o and returns a Manager.
func NewManager(o ManagerOptions) (*Manager, error) {
	if o.Store == nil {
		return nil, errors.New("session new manager: Store is required")
	}
	if len(o.Secrets) == 0 {
		return nil, errors.New("session new manager: at least one secret is required (set NEXTAUTH_SECRET)")
	}
	if o.MaxAge < 0 || o.UpdateAge < 0 || o.AbsoluteLifetime < 0 || o.MaxPerUser < 0 {
		return nil, errors.New("session new manager: MaxAge, UpdateAge, AbsoluteLifetime and MaxPerUser must not be negative")
	}
	m := &Manager{
		store:     o.Store,
		maxAge:    o.MaxAge,
		updateAge: o.UpdateAge,
		absolute:  o.AbsoluteLifetime,
		maxPer:    o.MaxPerUser,
		now:       o.Now,
		log:       o.Logger,
		cache:     newCache(o.CacheTTL, o.CacheSize),
		revoke:    o.Revoke,
		ended:     o.Ended,
		revokeSem: make(chan struct{}, maxRevoking),
	}
	if err := m.SetSecrets(o.Secrets); err != nil {
		return nil, fmt.Errorf("session new manager: %w", err)
	}
	if m.maxAge == 0 {
		m.maxAge = DefaultMaxAge
	}
	if m.updateAge == 0 {
		m.updateAge = DefaultUpdateAge
	}
	if m.absolute == 0 {
		m.absolute = DefaultAbsoluteLifetime
	}
	if m.maxPer == 0 {
		m.maxPer = DefaultMaxPerUser
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m.bufs.New = func() any { b := make([]byte, 0, 2048); return &b }
	if w, ok := o.Store.(Watcher); ok && m.cache != nil {
		// Until the store confirms the change feed is live, the cache is
		// bypassed: another instance's sign-out must never be missed.
		m.cache.setLive(false)
		ctx, cancel := context.WithCancel(context.Background())
		m.stopWatch, m.watchCtx = cancel, ctx
		if lw, ok := o.Store.(LeasedWatcher); ok {
			m.cache.current = lw.WatchLeased(ctx, m.changed, m.cache.setLive)
		} else {
			w.Watch(ctx, m.changed, m.cache.setLive)
		}
	}
	return m, nil
}

// CacheStats returns how many session loads the in-process cache answered
// (hits) and how many went to the store while the cache was on (misses).
func (m *Manager) CacheStats() (hits, misses uint64) {
	return m.cacheHits.Load(), m.cacheMisses.Load()
}

// Close stops watching the store for other instances' changes and waits
// for the watch to stop (when the store implements WatchWaiter, as Redis
// does) and for the revocations of ended sessions still under way. It does
// not close the store. The Manager must not be used afterwards.
func (m *Manager) Close() {
	if m.stopWatch != nil {
		m.stopWatch()
		if ww, ok := m.store.(WatchWaiter); ok {
			ww.WaitWatch(m.watchCtx)
		}
	}
	m.revoking.Wait()
}

// MaxAge returns the idle lifetime of a session (the cookie's Max-Age).
func (m *Manager) MaxAge() time.Duration { return m.maxAge }

// Create makes a new session for d: a fresh cookie token, a record expiring
// MaxAge from now (or at AbsoluteLifetime, if sooner) with Version 1, stored
// sealed. It returns the cookie token (give it only to the browser) and the
// session. If the user then holds more than MaxPerUser live sessions, the
// least recently active others are ended; a store fault while doing so is
// logged, not returned (the new session stands).
func (m *Manager) Create(ctx context.Context, d Data, meta Meta) (string, *Session, error) {
	token, err := NewToken()
	if err != nil {
		return "", nil, fmt.Errorf("session create: %w", err)
	}
	now := m.now()
	s := &Session{
		ID:        IDFromToken(token),
		UserKey:   UserKey(d.Provider, d.Subject),
		SID:       meta.SID,
		UserAgent: truncateUA(meta.UserAgent),
		Created:   now,
		LastSeen:  now,
		Expires:   m.expiry(now, now),
		Data:      d,
	}
	rec, err := m.record(token, s)
	if err != nil {
		return "", nil, fmt.Errorf("session create: %w", err)
	}
	if err := m.store.Create(ctx, rec); err != nil {
		return "", nil, storeErr("session create", err)
	}
	s.Version = rec.Version
	m.trimUser(ctx, s)
	return token, s, nil
}

// Load returns the session of a cookie token. A malformed token (not the shape
// NewToken makes) is ErrNotFound without touching the store; so is a missing,
// expired or unopenable record. A store fault is an error wrapping
// ErrUnavailable, which must never be treated as signed out.
//
// When now >= LastSeen + UpdateAge, Load slides the expiry (LastSeen = now,
// Expires = now + MaxAge, never past Created + AbsoluteLifetime), stores it
// and sets Extended. If that store write fails, it is logged and the session
// is returned unextended. A session past Created + AbsoluteLifetime is
// ErrNotFound (and deleted).
func (m *Manager) Load(ctx context.Context, token string) (*Session, error) {
	s, _, err := m.load(ctx, token, true)
	if s != nil {
		cp := *s // the cache's is shared; this one is the caller's
		s = &cp
	}
	return s, err
}

// LoadFresh is Load without the cache: it always reads the store (and
// refreshes the cache). Use it where a decision must see other instances'
// latest writes, e.g. the fencing check of a token refresh.
func (m *Manager) LoadFresh(ctx context.Context, token string) (*Session, error) {
	s, _, err := m.load(ctx, token, false)
	return s, err
}

// LoadJSON is Load for the hot read paths (the session endpoint, Require):
// it also returns the session JSON rendered for this version of the session
// by an earlier SetJSON, or nil. The session may be the cache's own, shared
// with every other reader: neither it nor the bytes may be modified (copy
// the Session first).
func (m *Manager) LoadJSON(ctx context.Context, token string) (*Session, []byte, error) {
	return m.load(ctx, token, true)
}

// SetJSON remembers the session JSON rendered for s (see LoadJSON). It is a
// no-op without a cache or when s changed meanwhile.
func (m *Manager) SetJSON(s *Session, b []byte) {
	if m.cache != nil {
		m.cache.setJSON(s, b)
	}
}

func (m *Manager) load(ctx context.Context, token string, cached bool) (*Session, []byte, error) {
	if !validToken(token) {
		return nil, nil, fmt.Errorf("session load: malformed token: %w", ErrNotFound)
	}
	var idb [64]byte
	idBytes(&idb, token)
	if m.cache != nil && cached {
		now := m.now()
		if cs, js, ok := m.cache.get(idb[:], now); ok && now.Before(cs.Expires) && now.Before(cs.LastSeen.Add(m.updateAge)) {
			m.cacheHits.Add(1)
			return cs, js, nil
		}
		m.cacheMisses.Add(1)
	}
	// The write generation before the store read (a hit needs none): put
	// refuses this read if a write of its id came in between.
	var gen uint64
	if m.cache != nil {
		gen = m.cache.generation()
	}
	// (A copy, so that idb itself stays on the stack of a cache hit.)
	s, err := m.loadStore(ctx, token, append([]byte(nil), idb[:]...))
	if err != nil {
		if m.cache != nil && errors.Is(err, ErrNotFound) {
			m.cache.drop(string(idb[:]))
		}
		return nil, nil, err
	}
	if m.cache != nil {
		m.cache.put(s, m.now(), gen)
	}
	return s, nil, nil
}

func (m *Manager) loadStore(ctx context.Context, token string, idb []byte) (*Session, error) {
	id := string(idb)
	rec, err := m.store.Get(ctx, id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("session load: %w", ErrNotFound)
		}
		return nil, storeErr("session load", err)
	}
	now := m.now()
	if rec.ID != id || !rec.Expires.After(now) {
		return nil, fmt.Errorf("session load: %w", ErrNotFound)
	}
	if !m.live(rec, now) {
		m.endAged(ctx, id)
		return nil, fmt.Errorf("session load: past its absolute lifetime: %w", ErrNotFound)
	}
	s := &Session{
		ID:        id,
		UserKey:   rec.UserKey,
		SID:       rec.SID,
		UserAgent: rec.UserAgent,
		Created:   rec.Created,
		LastSeen:  rec.LastSeen,
		Expires:   m.clamp(rec.Created, rec.Expires),
		Version:   rec.Version,
	}
	stale, err := m.open(&s.Data, token, idb, rec.Sealed)
	if err != nil {
		m.log.WarnContext(ctx, "session: record does not open", "id_prefix", id[:8], "err", err)
		return nil, fmt.Errorf("session load: %w", ErrNotFound)
	}
	reseal := "" // a previous secret opened it: seal it again when extending
	if stale {
		reseal = token
	}
	if !now.Before(s.LastSeen.Add(m.updateAge)) && !m.extend(ctx, s, rec, now, reseal) {
		return nil, fmt.Errorf("session load: ended while loading: %w", ErrNotFound)
	}
	return s, nil
}

// extend slides s's expiry and stores it: a conditional write from the
// version s was read at (rec), so it neither overwrites a concurrent write
// (e.g. a token refresh) nor resurrects a session ended meanwhile. It
// reports false when the session is gone (ended since it was read). With
// reseal (the cookie token of a record a previous secret opened), the data
// is sealed again with the current secret, so that an active session
// outlives its secret's rotation out of the list.
func (m *Manager) extend(ctx context.Context, s *Session, rec *Record, now time.Time, reseal string) bool {
	next := *rec
	if reseal != "" {
		if r, err := m.record(reseal, s); err == nil {
			next.Sealed, next.Revoke = r.Sealed, r.Revoke
		}
	}
	next.LastSeen = now
	next.Expires = m.expiry(rec.Created, now)
	next.Version = rec.Version + 1
	m.dropCached(s.ID)
	err := m.store.Update(ctx, &next, rec.Version)
	m.dropCached(s.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		return false
	case errors.Is(err, ErrConflict):
		return true // another write came first; the next load extends
	case err != nil:
		m.log.WarnContext(ctx, "session: extend expiry: save failed", "id_prefix", s.ID[:8], "err", err)
		return true
	}
	s.LastSeen, s.Expires, s.Version, s.Extended = next.LastSeen, next.Expires, next.Version, true
	return true
}

// dropCached forgets id's cached session, if there is a cache. Writes and
// ends call it before AND after the store call: a load that read the store
// before the write can then never re-cache what it read.
func (m *Manager) dropCached(id string) {
	if m.cache != nil {
		m.cache.drop(id)
	}
	m.subs.notify(id)
}

// Save reseals s.Data with the current secret and stores it with s's
// metadata and Version+1, on the condition that the stored session is still
// at s.Version (the version it was read at); on success s.Version is
// incremented. token must be the session's cookie token (IDFromToken(token)
// == s.ID). A session ended meanwhile is an error wrapping ErrNotFound: the
// caller must treat it as signed out (and revoke any token it obtained for
// it); one written by someone else since s was read wraps ErrConflict
// (reload and decide again). Save does not change the expiry.
func (m *Manager) Save(ctx context.Context, token string, s *Session) error {
	if !validToken(token) || IDFromToken(token) != s.ID {
		return errors.New("session save: token does not belong to the session")
	}
	rec, err := m.record(token, s)
	if err != nil {
		return fmt.Errorf("session save: %w", err)
	}
	m.dropCached(s.ID)
	err = m.store.Update(ctx, rec, s.Version)
	m.dropCached(s.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("session save: the session has ended: %w", ErrNotFound)
	case errors.Is(err, ErrConflict):
		return fmt.Errorf("session save: %w", ErrConflict)
	case err != nil:
		return storeErr("session save", err)
	}
	s.Version = rec.Version
	return nil
}

// record seals s into the Record stored for it at s.Version+1.
func (m *Manager) record(token string, s *Session) (*Record, error) {
	pt := appendData(make([]byte, 0, 1024), &s.Data)
	sealed, err := (*m.sealers.Load())[0].seal(token, []byte(s.ID), pt)
	clear(pt)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	rec := &Record{
		ID:        s.ID,
		UserKey:   s.UserKey,
		SID:       s.SID,
		Created:   s.Created,
		LastSeen:  s.LastSeen,
		Expires:   s.Expires,
		UserAgent: s.UserAgent,
		Version:   s.Version + 1,
		Sealed:    sealed,
	}
	if rec.Revoke, err = m.sealRevoke(s.ID, s.Data.Provider, s.Data.Tokens.RefreshToken); err != nil {
		return nil, err
	}
	return rec, nil
}

// Delete ends the session of a cookie token (and revokes its refresh token,
// see ManagerOptions.Revoke). A malformed token or a missing session is not
// an error.
func (m *Manager) Delete(ctx context.Context, token string) error {
	if !validToken(token) {
		return nil
	}
	_, err := m.end(ctx, "session delete", IDFromToken(token), m.now().Add(m.absolute))
	return err
}

// DeleteID ends the session with record id (as listed by List). A missing
// session is not an error. Callers must check the id belongs to the user.
func (m *Manager) DeleteID(ctx context.Context, id string) error {
	_, err := m.end(ctx, "session delete id", id, m.now().Add(m.absolute))
	return err
}

// end ends record id in the store, its tombstone lasting until `until`
// (at least), forgets it in the cache, and has its refresh token revoked.
// It reports whether a live session ended.
func (m *Manager) end(ctx context.Context, op, id string, until time.Time) (bool, error) {
	m.dropCached(id)
	rec, err := m.store.Delete(ctx, id, until)
	m.dropCached(id)
	if err != nil {
		return false, storeErr(op, err)
	}
	if rec == nil {
		return false, nil
	}
	m.revokeEnded(ctx, rec)
	return true, nil
}

// List returns the live sessions of userKey, most recently seen first,
// without any secret.
func (m *Manager) List(ctx context.Context, userKey string) ([]Info, error) {
	recs, err := m.store.ListByUser(ctx, userKey)
	if err != nil {
		return nil, storeErr("session list", err)
	}
	now := m.now()
	out := make([]Info, 0, len(recs))
	for _, r := range recs {
		if !r.Expires.After(now) || !m.live(r, now) {
			continue
		}
		out = append(out, Info{
			ID: r.ID, UserAgent: r.UserAgent, SID: r.SID,
			Created: r.Created, LastSeen: r.LastSeen, Expires: m.clamp(r.Created, r.Expires),
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].LastSeen.Equal(out[j].LastSeen) {
			return out[i].LastSeen.After(out[j].LastSeen)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// DeleteUser ends every session of userKey (e.g. on back-channel logout or
// "sign out everywhere") and returns how many it deleted. On a store fault it
// returns the count so far and an error wrapping ErrUnavailable.
func (m *Manager) DeleteUser(ctx context.Context, userKey string) (int, error) {
	recs, err := m.store.ListByUser(ctx, userKey)
	if err != nil {
		return 0, storeErr("session delete user", err)
	}
	return m.deleteRecords(ctx, "session delete user", recs)
}

// deleteRecords ends recs and returns how many live sessions it ended
// before any store fault.
func (m *Manager) deleteRecords(ctx context.Context, op string, recs []*Record) (int, error) {
	n := 0
	for _, r := range recs {
		ended, err := m.end(ctx, op, r.ID, r.Created.Add(m.absolute))
		if err != nil {
			return n, err
		}
		if ended {
			n++
		}
	}
	return n, nil
}

// storeErr wraps a store fault so that it always matches ErrUnavailable.
func storeErr(op string, err error) error {
	if errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
}

// truncateUA bounds a User-Agent to maxUserAgent bytes of valid UTF-8.
func truncateUA(ua string) string {
	if len(ua) <= maxUserAgent {
		return ua
	}
	return strings.ToValidUTF8(ua[:maxUserAgent], "")
}
