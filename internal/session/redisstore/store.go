// Package redisstore is a session.Store kept in Redis (6.2 or later), shared
// by every authbff instance that points at the same server, Sentinel group or
// Cluster.
//
// Key layout, under Options.Prefix (default "authbff:"):
//
//	<prefix>s:<id>       string: the session.Record (codec.go), expiring (PXAT) at rec.Expires;
//	                     once ended, the tombstone {"ended":true} until the later of
//	                     Delete's `until` and the record's expiry
//	<prefix>u:<userKey>  sorted set: member = record id, score = its expiry in unix ms;
//	                     the key expires at the largest score
//	<prefix>i:<sidKey>   sorted set like u:, for the records whose Record.SIDKey() is sidKey
//	<prefix>m:<key>      string: a one-time marker of Store.MarkUsed, expiring (PXAT) with it
//	<prefix>l:<name>     string: a lock held by Store.Lock, expiring after its TTL
//	<prefix>{feed}presence  sorted set: member = a watching instance (one per WatchLeased),
//	                     score = the end of its presence lease in unix ms by Redis's clock;
//	                     expires with the longest lease
//
// No command touches two keys at once (pipelines, not MULTI or multi-key
// scripts), so the layout works unchanged on Redis Cluster. Every write of
// a record (Create, Update, Delete) is one Lua script on its s: key that
// checks and writes atomically: Update is a compare-and-swap on the stored
// Version, Delete leaves a tombstone no later write passes (scripts.go).
// The indexes are maintained after the script and pruned on read. The
// store never uses KEYS.
//
// Pub/Sub channels: <prefix>changes (the id of every record written or
// ended), and the ended-session feed <prefix>{feed}ends with its
// acknowledgements <prefix>{feed}ack:<store id> and each watching
// instance's presence probes <prefix>{feed}probe:<member> (shard channels
// on Cluster; see feed.go, WatchLeased and Delete). A Delete waits for the
// instances in the presence set, not for PUBLISH's count, and an instance
// serves from its cache only while its presence lease holds, proved by its
// own probe coming back through its feed subscription: at most FeedLease
// after a Delete's announcement, every instance has dropped the session or
// serves nothing from its cache.
package redisstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authbff/authbff/internal/session"
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "authbff:"

// DefaultOpTimeout bounds every store call when Options.OpTimeout is 0.
const DefaultOpTimeout = time.Second

// Options configures New. Exactly one of URL, Universal and Client must be set.
type Options struct {
	// URL is one of:
	//
	//	redis://[user:pass@]host:port/db (rediss:// for TLS)
	//	redis-sentinel://[user:pass@]host:26379[,host2...]/<master>[?db=N&sentinel_password=...]
	//	redis-cluster://[user:pass@]host:6379[,host2...]
	//
	// Every form takes the query parameters dial_timeout, read_timeout,
	// write_timeout, pool_timeout, max_retries, pool_size, op_timeout
	// (Options.OpTimeout) and feed_lease (Options.FeedLease); redis:// and
	// rediss:// also take the rest of go-redis's URL options, the other two
	// forms those ParseUniversalURL lists. Fields set below override the
	// URL's.
	URL string
	// Universal configures Sentinel (MasterName set) or Cluster (several
	// Addrs, or IsClusterMode) through go-redis; the store makes its own
	// client from a copy.
	Universal *redis.UniversalOptions
	// Client is an existing client to share. The store does not close it,
	// and the timeouts below (but OpTimeout) do not apply to it; it should
	// have ContextTimeoutEnabled, or OpTimeout cannot cut a hung call short.
	// A shared Cluster client must not read from replicas (ReadOnly,
	// RouteByLatency, RouteRandomly), and gets no reload-on-error hook.
	Client redis.UniversalClient

	// Prefix is put in front of every key; empty means DefaultPrefix.
	Prefix string
	// DialTimeout, ReadTimeout, WriteTimeout (0: ReadTimeout's value) and
	// MaxRetries override go-redis's defaults when non-zero; -1 turns a
	// timeout or the retries off.
	DialTimeout  time.Duration
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	MaxRetries   int
	// OpTimeout bounds every call to the store (all its round trips and
	// retries) and Ping: past it the call fails with session.ErrUnavailable,
	// so a hung Redis is a quick 503, never a hung request. 0 means
	// DefaultOpTimeout (or the URL's op_timeout); negative means only the
	// caller's context bounds calls.
	OpTimeout time.Duration
	// FeedLease is how long a watching Store (a Manager's cache) trusts its
	// change feed without fresh proof from Redis (a presence renewal,
	// every FeedLease/3, whose probe came back through the feed), and so
	// the longest a Delete waits for an instance that does not confirm
	// having dropped the session (see WatchLeased and feed.go). 0 means
	// DefaultFeedLease (or the URL's feed_lease).
	FeedLease time.Duration
	// Logger receives failures of best-effort cleanup; nil discards.
	Logger *slog.Logger
}

// Store is a session.Store in Redis. It is safe for concurrent use.
type Store struct {
	client    redis.UniversalClient
	ownClient bool
	prefix    string
	log       *slog.Logger
	opTimeout time.Duration        // < 0: none
	cluster   *redis.ClusterClient // set when client is one, for reloads
	feedLease time.Duration

	// The ended-session feed (feed.go).
	origin          string    // this Store's id in feed messages
	base            time.Time // the monotonic origin of ping payloads
	acks            acks
	feedUnsupported atomic.Bool // Cluster of Redis < 7: no shard channels

	bg     context.Context // ends at Close: background subscriptions
	stopBg context.CancelFunc

	// Every goroutine the store starts is in wg, and those of a watch also
	// in watches[its ctx] (watch.go); gmu orders starting one with Close.
	gmu     sync.Mutex
	wg      sync.WaitGroup
	watches map[context.Context]*watchGroup

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var _ session.Store = (*Store)(nil)

// New returns a Store for o. It does not contact Redis (call Ping for that);
// it fails only when o is invalid. The clients it makes honour context
// deadlines (go-redis ContextTimeoutEnabled), and a Cluster client reloads
// the slot map as soon as a command fails on a connection error, CLUSTERDOWN,
// TRYAGAIN or a redirect, so a replica's promotion is followed in well under
// a second rather than at go-redis's periodic reload.
func New(o Options) (*Store, error) {
	set := 0
	for _, b := range []bool{o.URL != "", o.Universal != nil, o.Client != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		return nil, errors.New("redisstore: set exactly one of Options.URL, Options.Universal and Options.Client")
	}
	s := &Store{prefix: o.Prefix, log: o.Logger, base: time.Now(), origin: rand.Text()}
	s.bg, s.stopBg = context.WithCancel(context.Background())
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var up storeParams
	switch {
	case o.Client != nil:
		s.client = o.Client
		// The feed needs shard channels on Cluster; the reload hook is
		// not added to a client the store does not own.
		s.cluster, _ = o.Client.(*redis.ClusterClient)
	case o.Universal != nil || strings.HasPrefix(o.URL, "redis-sentinel:") || strings.HasPrefix(o.URL, "redis-cluster:"):
		u := o.Universal
		if u == nil {
			var err error
			if u, up, err = parseUniversalURL(o.URL); err != nil {
				return nil, err
			}
		} else {
			c := *u
			u = &c
		}
		setTimeouts(&u.DialTimeout, &u.ReadTimeout, &u.WriteTimeout, &u.MaxRetries, o)
		u.ContextTimeoutEnabled = true
		s.client, s.ownClient = newUniversalClient(u, s), true
	default:
		raw, p, err := splitStoreParams(o.URL)
		if err != nil {
			return nil, err
		}
		up = p
		ro, err := redis.ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("redisstore: parse URL: %w", err)
		}
		setTimeouts(&ro.DialTimeout, &ro.ReadTimeout, &ro.WriteTimeout, &ro.MaxRetries, o)
		ro.ContextTimeoutEnabled = true
		s.client, s.ownClient = redis.NewClient(ro), true
	}
	s.opTimeout = cmp.Or(o.OpTimeout, up.opTimeout, DefaultOpTimeout)
	s.feedLease = cmp.Or(o.FeedLease, up.feedLease, DefaultFeedLease)
	if s.feedLease < 0 {
		s.Close()
		return nil, errors.New("redisstore: the feed lease must be positive")
	}
	return s, nil
}

// setTimeouts applies o's non-zero overrides to a go-redis options struct.
func setTimeouts(dial, read, write *time.Duration, retries *int, o Options) {
	if o.DialTimeout != 0 {
		*dial = o.DialTimeout
	}
	if o.ReadTimeout != 0 {
		*read = o.ReadTimeout
		if o.WriteTimeout == 0 {
			*write = o.ReadTimeout
		}
	}
	if o.WriteTimeout != 0 {
		*write = o.WriteTimeout
	}
	if o.MaxRetries != 0 {
		*retries = o.MaxRetries
	}
}

// opCtx bounds one store call by the op timeout.
func (s *Store) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.opTimeout < 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.opTimeout)
}

// Client returns the store's Redis client, e.g. to share with other
// components. It stays usable until Close, which closes it unless it was
// passed in as Options.Client.
func (s *Store) Client() redis.UniversalClient { return s.client }

// Prefix returns the key prefix in use.
func (s *Store) Prefix() string { return s.prefix }

func (s *Store) sessionKey(id string) string    { return s.prefix + "s:" + id }
func (s *Store) indexKey(userKey string) string { return s.prefix + "u:" + userKey }
func (s *Store) lockKey(name string) string     { return s.prefix + "l:" + name }
func (s *Store) changesChannel() string         { return s.prefix + "changes" }

// unavailable wraps err (a Redis failure) as session.ErrUnavailable.
func unavailable(op string, err error) error {
	return fmt.Errorf("redisstore: %s: %w: %w", op, session.ErrUnavailable, err)
}

// errClosed is wrapped, with session.ErrUnavailable, by every call after Close.
var errClosed = errors.New("store closed")

func (s *Store) checkOpen(op string) error {
	if s.closed.Load() {
		return unavailable(op, errClosed)
	}
	return nil
}

// Ping reports whether Redis answers PING within ctx and the op timeout,
// whichever ends first; failures wrap session.ErrUnavailable. (On Cluster one
// master answers, which does not prove every slot is served.)
func (s *Store) Ping(ctx context.Context) error {
	if err := s.checkOpen("ping"); err != nil {
		return err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Close marks the store closed (later calls fail with session.ErrUnavailable),
// stops every watch and background subscription and waits for all the
// goroutines the store started (an acknowledgement or presence withdrawal
// under way ends within its own timeout, at most a second or the op
// timeout), then closes the client unless it was shared through
// Options.Client. It is safe to call more than once; every call returns
// once the first has finished.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.gmu.Lock()
		s.closed.Store(true) // no goroutine starts from now on
		s.gmu.Unlock()
		s.stopBg()
		s.wg.Wait()
		if s.ownClient {
			if err := s.client.Close(); err != nil {
				s.closeErr = fmt.Errorf("redisstore: close: %w", err)
			}
		}
	})
	return s.closeErr
}

// ms formats t as unix milliseconds, the unit of scores and PEXPIREAT.
func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// shortID identifies a record in logs without giving away its full key.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
