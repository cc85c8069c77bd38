// Package redisstore is a session.Store kept in Redis (6.2 or later), shared
// by every authbff instance that points at the same server, Sentinel group or
// Cluster.
//
// Key layout, under Options.Prefix (default "authbff:"):
//
//	<prefix>s:<id>       string: the JSON-encoded session.Record, expiring (PXAT) at rec.Expires
//	<prefix>u:<userKey>  sorted set: member = record id, score = its expiry in unix ms;
//	                     the key expires at the largest score
//	<prefix>i:<sidKey>   sorted set like u:, for the records whose Record.SIDKey() is sidKey
//	<prefix>m:<key>      string: a one-time marker of Store.MarkUsed, expiring (PXAT) with it
//	<prefix>l:<name>     string: a lock held by Store.Lock, expiring after its TTL
//
// No command touches two keys at once (pipelines, not MULTI or multi-key
// scripts), so the layout works unchanged on Redis Cluster. The store never
// uses KEYS.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authbff/authbff/internal/session"
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "authbff:"

// Options configures New. Exactly one of URL, Universal and Client must be set.
type Options struct {
	// URL is a single Redis server: redis://[user:pass@]host:port/db or
	// rediss:// for TLS, with go-redis query options (dial_timeout, ...).
	URL string
	// Universal configures Sentinel (MasterName set) or Cluster (several
	// Addrs) through go-redis; the store makes its own client from a copy.
	Universal *redis.UniversalOptions
	// Client is an existing client to share. The store does not close it,
	// and DialTimeout, ReadTimeout and MaxRetries do not apply to it.
	Client redis.UniversalClient

	// Prefix is put in front of every key; empty means DefaultPrefix.
	Prefix string
	// DialTimeout, ReadTimeout (also used for writes) and MaxRetries override
	// go-redis's defaults when non-zero; MaxRetries -1 disables retries.
	DialTimeout time.Duration
	ReadTimeout time.Duration
	MaxRetries  int
	// Logger receives failures of best-effort cleanup; nil discards.
	Logger *slog.Logger
}

// Store is a session.Store in Redis. It is safe for concurrent use.
type Store struct {
	client    redis.UniversalClient
	ownClient bool
	prefix    string
	log       *slog.Logger

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var _ session.Store = (*Store)(nil)

// New returns a Store for o. It does not contact Redis (call Ping for that);
// it fails only when o is invalid.
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
	s := &Store{prefix: o.Prefix, log: o.Logger}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.Client != nil:
		s.client = o.Client
	case o.Universal != nil:
		u := *o.Universal
		if o.DialTimeout != 0 {
			u.DialTimeout = o.DialTimeout
		}
		if o.ReadTimeout != 0 {
			u.ReadTimeout, u.WriteTimeout = o.ReadTimeout, o.ReadTimeout
		}
		if o.MaxRetries != 0 {
			u.MaxRetries = o.MaxRetries
		}
		s.client, s.ownClient = redis.NewUniversalClient(&u), true
	default:
		ro, err := redis.ParseURL(o.URL)
		if err != nil {
			return nil, fmt.Errorf("redisstore: parse URL: %w", err)
		}
		if o.DialTimeout != 0 {
			ro.DialTimeout = o.DialTimeout
		}
		if o.ReadTimeout != 0 {
			ro.ReadTimeout, ro.WriteTimeout = o.ReadTimeout, o.ReadTimeout
		}
		if o.MaxRetries != 0 {
			ro.MaxRetries = o.MaxRetries
		}
		s.client, s.ownClient = redis.NewClient(ro), true
	}
	return s, nil
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

// Ping reports whether Redis answers; failures wrap session.ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.checkOpen("ping"); err != nil {
		return err
	}
	if err := s.client.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Close marks the store closed (later calls fail with session.ErrUnavailable)
// and closes the client unless it was shared through Options.Client. It is
// safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
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
