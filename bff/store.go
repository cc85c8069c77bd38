package bff

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/authbff/authbff/bff/store"
	"github.com/authbff/authbff/internal/session/boltstore"
	"github.com/authbff/authbff/internal/session/memstore"
	"github.com/authbff/authbff/internal/session/pgstore"
	"github.com/authbff/authbff/internal/session/redisstore"
	"github.com/authbff/authbff/internal/validate"
)

// Store keeps sessions: opaque sealed records keyed by a hash of the cookie
// token. It is store.Store, the public contract of package
// github.com/authbff/authbff/bff/store: open a built-in one (memory, bolt,
// Redis, PostgreSQL) with OpenStore, or implement store.Store yourself
// (checked by package bff/store/storetest) and pass it as Options.Store.
// Several BFFs (or instances) may share a Redis or PostgreSQL store.
type Store = store.Store

// ErrStoreLocked is wrapped by OpenStore's error when another process (a
// running authbff) holds a bolt:<path> store's file.
var ErrStoreLocked = errors.New("bff: the session store file is held by another process")

// OpenStore opens a session store from its SESSION_STORE spelling: memory,
// bolt:<path>, redis://... or rediss://..., redis-sentinel://...,
// redis-cluster://..., postgres://... or postgresql://... (PostgreSQL; the
// store creates and migrates its tables). Close it when done.
func OpenStore(spec string) (Store, error) {
	return openStore(spec, slog.New(slog.DiscardHandler))
}

func openStore(spec string, logger *slog.Logger) (Store, error) {
	switch {
	case spec == "memory":
		return memstore.New(memstore.Options{}), nil
	case strings.HasPrefix(spec, "bolt:"):
		s, err := boltstore.Open(strings.TrimPrefix(spec, "bolt:"), boltstore.Options{Logger: logger})
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("bff: SESSION_STORE=%s: %w: %w", spec, ErrStoreLocked, err)
		}
		if err != nil {
			return nil, fmt.Errorf("bff: SESSION_STORE=%s: %w", spec, err)
		}
		return s, nil
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"),
		strings.HasPrefix(spec, "redis-sentinel://"), strings.HasPrefix(spec, "redis-cluster://"):
		// One parser for every form: op_timeout, dial/read/write timeouts,
		// retries and feed_lease apply to Sentinel and Cluster too.
		s, err := redisstore.New(redisstore.Options{URL: spec, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("bff: SESSION_STORE=%s: %w", validate.RedactURL(spec), validate.RedactError(err, spec))
		}
		return s, nil
	case isPostgres(spec):
		s, err := pgstore.New(pgstore.Options{URL: spec, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("bff: SESSION_STORE=%s: %w", validate.RedactURL(spec), validate.RedactError(err, spec))
		}
		return s, nil
	}
	return nil, fmt.Errorf("bff: SESSION_STORE=%q: unknown store (use memory, bolt:<path>, redis://..., redis-sentinel://..., redis-cluster://... or postgres://...)", validate.RedactURL(spec))
}

func isPostgres(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}

// storeKind is the store label of the metrics: memory, bolt, postgres or
// redis.
func storeKind(spec string) string {
	switch {
	case spec == "memory":
		return "memory"
	case strings.HasPrefix(spec, "bolt:"):
		return "bolt"
	case isPostgres(spec):
		return "postgres"
	}
	return "redis"
}
