// Package pgstore is a session.Store kept in PostgreSQL (12 or later),
// shared by every authbff instance that points at the same database and
// schema, through pgx v5 and its pool.
//
// Tables, in Options.Schema (default: the first schema of the URL's
// search_path, else public) under Options.TablePrefix (default "authbff_"),
// created and migrated by the store itself (schema.go):
//
//	<prefix>migrations  version: the schema versions applied
//	<prefix>sessions    one row per record (id primary key, its metadata in
//	                    columns, Sealed and Revoke as bytea, version for the
//	                    conditional write), or per tombstone (ended, no
//	                    sealed data, expires = the tombstone's end); partial
//	                    indexes on user_key and sid_key over the live rows,
//	                    and one on expires for the purge
//	<prefix>markers     key primary key, expires
//	<prefix>locks       name primary key, token, expires (the refresh lock)
//	<prefix>presence    member primary key, expires: the watching instances
//
// Every write is one statement (autocommit): Create an INSERT ... ON
// CONFLICT that takes over only an expired row, Update an UPDATE guarded by
// the stored version, Delete an UPDATE that turns the live row into its
// tombstone and returns the record as it was. Reads filter expiry (the
// process's clock, as the Manager's); a background purge, run by one
// instance at a time (an advisory lock), deletes what has expired.
//
// Cache coherence uses LISTEN/NOTIFY (feed.go): each write notifies in the
// same transaction, so the notification exists exactly when the write
// committed; a Delete waits until every watching instance has confirmed
// dropping the session or can prove nothing (its presence lease, renewed
// through the database and proved by its own probe notification coming
// back on its LISTEN connection, has lapsed), as the Redis store does.
package pgstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbff/authbff/internal/session"
)

// DefaultTablePrefix is Options.TablePrefix when it is empty.
const DefaultTablePrefix = "authbff_"

// DefaultOpTimeout bounds every store call when Options.OpTimeout is 0.
const DefaultOpTimeout = 2 * time.Second

// DefaultPurgeEvery is how often the background purge runs when
// Options.PurgeEvery is 0.
const DefaultPurgeEvery = time.Minute

// Options configures New. Exactly one of URL and Pool must be set.
type Options struct {
	// URL is postgres://[user[:pass]@]host[:port]/db[?param=...] (or
	// postgresql://, or a key=value DSN), with pgx's parameters (sslmode,
	// pool_max_conns, ...) and these of the store, removed before the rest
	// reaches pgx: schema, table_prefix, op_timeout, feed_lease,
	// purge_every (Go durations). Fields set below override the URL's.
	// The pool holds at most pool_max_conns connections (default 4 per
	// CPU, at least 10) plus one LISTEN connection per watch and one for
	// the acknowledgements of this store's Deletes.
	URL string
	// Pool is an existing pool to share; the store does not close it.
	Pool *pgxpool.Pool

	// Schema holds the tables; created when missing. Empty: the URL's
	// schema parameter, else the first schema of its search_path, else
	// public.
	Schema string
	// TablePrefix is put in front of every table name; empty: the URL's
	// table_prefix, else DefaultTablePrefix.
	TablePrefix string
	// OpTimeout bounds every call (its round trips, waiting for a pooled
	// connection and connecting) and Ping: past it the call fails with
	// session.ErrUnavailable, so a hung database is a quick 503. 0 means
	// DefaultOpTimeout (or the URL's op_timeout); negative means only the
	// caller's context bounds calls.
	OpTimeout time.Duration
	// FeedLease is how long a watching Store trusts its change feed without
	// fresh proof (a presence renewal, every FeedLease/3, whose probe came
	// back through its LISTEN connection), and so the longest a Delete
	// waits for an instance that does not confirm dropping the session. 0
	// means DefaultFeedLease (or the URL's feed_lease).
	FeedLease time.Duration
	// PurgeEvery is how often expired rows are deleted (by one instance at
	// a time); 0 means DefaultPurgeEvery (or the URL's purge_every),
	// negative turns the background purge off (DeleteExpired still works).
	PurgeEvery time.Duration
	// Logger receives failures of background work; nil discards.
	Logger *slog.Logger
}

// Store is a session.Store in PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool      *pgxpool.Pool
	ownPool   bool
	connCfg   *pgx.ConnConfig // for the LISTEN connections
	log       *slog.Logger
	opTimeout time.Duration
	feedLease time.Duration
	schema    string
	prefix    string
	t         tables
	ch        channels

	migrated atomic.Bool
	migMu    sync.Mutex

	origin string    // this Store's id in feed messages
	base   time.Time // the monotonic origin of probe payloads
	acks   acks

	bg     context.Context // ends at Close
	stopBg context.CancelFunc

	gmu     sync.Mutex
	wg      sync.WaitGroup
	watches map[context.Context]*watchGroup

	closed    atomic.Bool
	closeOnce sync.Once
}

var _ session.Store = (*Store)(nil)

// New returns a Store for o. It does not contact the database: the schema
// is created or migrated by the first call that needs it (every call until
// one succeeds), so an instance starting while PostgreSQL is down answers
// 503 until it is up. It fails only when o is invalid.
func New(o Options) (*Store, error) {
	if (o.URL == "") == (o.Pool == nil) {
		return nil, errors.New("pgstore: set exactly one of Options.URL and Options.Pool")
	}
	s := &Store{log: o.Logger, base: time.Now(), origin: strings.ToLower(rand.Text()[:16])}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var up urlParams
	if o.URL != "" {
		raw, p, err := splitParams(o.URL)
		if err != nil {
			return nil, err
		}
		up = p
		cfg, err := pgxpool.ParseConfig(raw)
		if err != nil {
			return nil, fmt.Errorf("pgstore: parse URL: %w", err)
		}
		if up.schema == "" {
			up.schema = firstSchema(cfg.ConnConfig.RuntimeParams["search_path"])
		}
		opTimeout := cmp.Or(o.OpTimeout, up.opTimeout, DefaultOpTimeout)
		if cfg.ConnConfig.ConnectTimeout == 0 && opTimeout > 0 {
			cfg.ConnConfig.ConnectTimeout = opTimeout
		}
		if !strings.Contains(raw, "pool_max_conns") {
			// pgxpool's default (the CPU count, at least 4) queues a busy
			// instance's session reads behind a few connections; go-redis
			// allows 10 per CPU. PostgreSQL backends cost more: 4 per CPU.
			cfg.MaxConns = int32(max(10, 4*runtime.GOMAXPROCS(0)))
		}
		if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
			cfg.ConnConfig.RuntimeParams["application_name"] = "authbff"
		}
		// Statements are few and fixed: prepared once per connection.
		s.pool, err = pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			return nil, fmt.Errorf("pgstore: %w", err)
		}
		s.ownPool = true
	} else {
		s.pool = o.Pool
		up.schema = firstSchema(o.Pool.Config().ConnConfig.RuntimeParams["search_path"])
	}
	s.connCfg = s.pool.Config().ConnConfig.Copy()
	s.opTimeout = cmp.Or(o.OpTimeout, up.opTimeout, DefaultOpTimeout)
	s.feedLease = cmp.Or(o.FeedLease, up.feedLease, DefaultFeedLease)
	purge := cmp.Or(o.PurgeEvery, up.purgeEvery, DefaultPurgeEvery)
	s.schema = cmp.Or(o.Schema, up.schema, "public")
	s.prefix = cmp.Or(o.TablePrefix, up.prefix, DefaultTablePrefix)
	if s.feedLease < 0 {
		s.closePool()
		return nil, errors.New("pgstore: the feed lease must be positive")
	}
	if len(s.schema) > 63 || len(s.prefix) > 40 {
		s.closePool()
		return nil, errors.New("pgstore: schema (63) or table prefix (40 bytes) too long")
	}
	s.t = newTables(s.schema, s.prefix)
	s.ch = newChannels(s.schema, s.prefix)
	s.bg, s.stopBg = context.WithCancel(context.Background())
	if purge > 0 {
		s.goBg(func() { s.purgeLoop(purge) })
	}
	return s, nil
}

// urlParams are the store's own URL parameters.
type urlParams struct {
	schema, prefix                   string
	opTimeout, feedLease, purgeEvery time.Duration
}

// splitParams removes the store's parameters from a postgres:// URL (a
// key=value DSN is passed on as it is).
func splitParams(raw string) (string, urlParams, error) {
	var p urlParams
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return raw, p, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", p, fmt.Errorf("pgstore: parse URL: %w", redact(err, raw))
	}
	q := u.Query()
	p.schema, p.prefix = q.Get("schema"), q.Get("table_prefix")
	for name, d := range map[string]*time.Duration{"op_timeout": &p.opTimeout, "feed_lease": &p.feedLease, "purge_every": &p.purgeEvery} {
		if v := q.Get(name); v != "" {
			if *d, err = time.ParseDuration(v); err != nil {
				return "", p, fmt.Errorf("pgstore: URL parameter %s=%q: %w", name, v, err)
			}
		}
	}
	for _, k := range []string{"schema", "table_prefix", "op_timeout", "feed_lease", "purge_every"} {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	return u.String(), p, nil
}

// redact drops raw (which may hold a password) from err's text.
func redact(err error, raw string) error {
	return errors.New(strings.ReplaceAll(err.Error(), raw, "<url>"))
}

// firstSchema is the first schema a search_path names, "" if none.
func firstSchema(path string) string {
	first, _, _ := strings.Cut(path, ",")
	first = strings.Trim(strings.TrimSpace(first), `"`)
	if first == "$user" {
		return ""
	}
	return first
}

// opCtx bounds one store call by the op timeout.
func (s *Store) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.opTimeout < 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.opTimeout)
}

// Pool returns the store's connection pool. It stays usable until Close,
// which closes it unless it was passed in as Options.Pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Schema returns the schema holding the tables; TablePrefix their prefix.
func (s *Store) Schema() string { return s.schema }

// TablePrefix returns the table name prefix in use.
func (s *Store) TablePrefix() string { return s.prefix }

// unavailable wraps err (a database failure) as session.ErrUnavailable.
func unavailable(op string, err error) error {
	return fmt.Errorf("pgstore: %s: %w: %w", op, session.ErrUnavailable, err)
}

var errClosed = errors.New("store closed")

// begin checks the store is open and its schema ready, and bounds the
// call: every method starts with it.
func (s *Store) begin(ctx context.Context, op string) (context.Context, context.CancelFunc, error) {
	if s.closed.Load() {
		return nil, nil, unavailable(op, errClosed)
	}
	octx, cancel := s.opCtx(ctx)
	if err := s.ensureSchema(octx); err != nil {
		cancel()
		return nil, nil, unavailable(op, err)
	}
	return octx, cancel, nil
}

// Ping reports whether PostgreSQL answers within ctx and the op timeout,
// and the schema is ready (created or migrated if needed); failures wrap
// session.ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel, err := s.begin(ctx, "ping")
	if err != nil {
		return err
	}
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Close marks the store closed (later calls fail with
// session.ErrUnavailable), stops every watch and the purge, waits for the
// goroutines the store started, then closes the pool unless it was shared
// through Options.Pool. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.gmu.Lock()
		s.closed.Store(true)
		s.gmu.Unlock()
		s.stopBg()
		s.wg.Wait()
		s.closePool()
	})
	return nil
}

func (s *Store) closePool() {
	if s.ownPool {
		s.pool.Close()
	}
}

// goBg runs f in a goroutine Close waits for, unless the store is closed.
func (s *Store) goBg(f func()) {
	s.gmu.Lock()
	defer s.gmu.Unlock()
	if s.closed.Load() {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// shortID identifies a record in logs without giving away its full key.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
