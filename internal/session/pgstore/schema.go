package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SchemaVersion is the schema version this release creates and expects.
const SchemaVersion = 1

// migrations[i] brings the schema from version i to i+1. Names in braces
// are replaced by the quoted, schema-qualified table names (tables.expand).
// Never edit a released step: append one.
var migrations = []string{
	// 1: the tables. The strings of a record but its id are bytea: the
	// contract keeps them as given, and text cannot hold a NUL byte.
	`CREATE TABLE IF NOT EXISTS {sessions} (
		id         text PRIMARY KEY,
		user_key   bytea NOT NULL DEFAULT '',
		sid        bytea NOT NULL DEFAULT '',
		sid_key    bytea NOT NULL DEFAULT '',
		created    timestamptz,
		last_seen  timestamptz,
		expires    timestamptz NOT NULL,
		user_agent bytea NOT NULL DEFAULT '',
		version    bigint NOT NULL DEFAULT 0,
		sealed     bytea,
		revoke     bytea,
		ended      boolean NOT NULL DEFAULT false
	);
	CREATE INDEX IF NOT EXISTS {sessions_user_idx} ON {sessions} (user_key) WHERE NOT ended;
	CREATE INDEX IF NOT EXISTS {sessions_sid_idx} ON {sessions} (sid_key) WHERE NOT ended AND sid_key <> '';
	CREATE INDEX IF NOT EXISTS {sessions_expires_idx} ON {sessions} (expires);
	CREATE TABLE IF NOT EXISTS {markers} (
		key     text PRIMARY KEY,
		expires timestamptz NOT NULL
	);
	CREATE INDEX IF NOT EXISTS {markers_expires_idx} ON {markers} (expires);
	CREATE TABLE IF NOT EXISTS {locks} (
		name    text PRIMARY KEY,
		token   text NOT NULL,
		expires timestamptz NOT NULL
	);
	CREATE TABLE IF NOT EXISTS {presence} (
		member  text PRIMARY KEY,
		expires timestamptz NOT NULL
	);`,
}

// tables are the quoted, qualified names of the store's tables.
type tables struct {
	schema, migrations, sessions, markers, locks, presence string
	r                                                      *strings.Replacer
	lockKey                                                int64 // the advisory lock of migrations
	purgeKey                                               int64 // the advisory lock of the purge
	feedKey                                                int64 // orders presence renewals and Deletes (feed.go)
}

func newTables(schema, prefix string) tables {
	q := func(name string) string { return pgx.Identifier{schema, prefix + name}.Sanitize() }
	t := tables{
		schema:     pgx.Identifier{schema}.Sanitize(),
		migrations: q("migrations"),
		sessions:   q("sessions"),
		markers:    q("markers"),
		locks:      q("locks"),
		presence:   q("presence"),
		lockKey:    advisoryKey("migrate", schema, prefix),
		purgeKey:   advisoryKey("purge", schema, prefix),
		feedKey:    advisoryKey("feed", schema, prefix),
	}
	plain := func(name string) string { return pgx.Identifier{prefix + name}.Sanitize() }
	t.r = strings.NewReplacer(
		"{sessions}", t.sessions, "{markers}", t.markers, "{locks}", t.locks,
		"{presence}", t.presence, "{migrations}", t.migrations,
		"{sessions_user_idx}", plain("sessions_user_idx"), "{sessions_sid_idx}", plain("sessions_sid_idx"),
		"{sessions_expires_idx}", plain("sessions_expires_idx"), "{markers_expires_idx}", plain("markers_expires_idx"),
	)
	return t
}

// expand replaces the table names in braces in sql.
func (t tables) expand(sql string) string { return t.r.Replace(sql) }

// advisoryKey is a 64-bit advisory lock key for one purpose in one
// schema and prefix.
func advisoryKey(what, schema, prefix string) int64 {
	h := sha256.Sum256([]byte("authbff/pgstore/" + what + "\x00" + schema + "\x00" + prefix))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

// channels are the NOTIFY channels of one schema and prefix (at most 63
// bytes: a hash stands for the schema and prefix).
type channels struct{ base string }

func newChannels(schema, prefix string) channels {
	h := sha256.Sum256([]byte(schema + "\x00" + prefix))
	return channels{base: "authbff_" + hex.EncodeToString(h[:6])}
}

func (c channels) changes() string            { return c.base + "_changes" }
func (c channels) ends() string               { return c.base + "_ends" }
func (c channels) ack(origin string) string   { return c.base + "_ack_" + origin }
func (c channels) probe(member string) string { return c.base + "_probe_" + member }

// ensureSchema creates or migrates the schema once per Store (retried by
// later calls until it succeeds). Several instances starting at once are
// serialised by an advisory lock held for the migration's transaction; a
// schema already at SchemaVersion is only read, so a role without CREATE
// privileges works once the schema exists.
func (s *Store) ensureSchema(ctx context.Context) error {
	if s.migrated.Load() {
		return nil
	}
	s.migMu.Lock()
	defer s.migMu.Unlock()
	if s.migrated.Load() {
		return nil
	}
	v, err := s.readVersion(ctx, s.pool)
	if err != nil {
		return err
	}
	if v < SchemaVersion {
		if err := s.migrate(ctx); err != nil {
			return err
		}
	} else if v > SchemaVersion {
		return fmt.Errorf("schema %s is at version %d, newer than this authbff's %d: run the newer release, or another schema", s.schema, v, SchemaVersion)
	}
	s.migrated.Store(true)
	return nil
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// readVersion returns the schema's version, 0 when it has no tables yet
// (looked up first, so that a new schema logs no error on the server).
func (s *Store) readVersion(ctx context.Context, q querier) (int, error) {
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", s.t.migrations).Scan(&exists); err != nil || !exists {
		return 0, err
	}
	var v int
	err := q.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+s.t.migrations).Scan(&v)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "3F000") { // dropped meanwhile
		return 0, nil
	}
	return v, err
}

// migrate applies the missing steps in one transaction under the
// migration lock.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", s.t.lockKey); err != nil {
		return err
	}
	// CREATE SCHEMA checks the database's CREATE privilege even when the
	// schema exists: only a missing schema is created.
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", s.schema).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+s.t.schema); err != nil {
			return fmt.Errorf("create schema %s: %w", s.schema, err)
		}
	}
	if _, err := tx.Exec(ctx, s.t.expand(`CREATE TABLE IF NOT EXISTS {migrations} (
		version int PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())`)); err != nil {
		return err
	}
	v, err := s.readVersion(ctx, tx)
	if err != nil {
		return err
	}
	for ; v < SchemaVersion; v++ {
		if _, err := tx.Exec(ctx, s.t.expand(migrations[v])); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+s.t.migrations+" (version) VALUES ($1)", v+1); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	if v > 0 {
		s.log.Info("pgstore: schema ready", "schema", s.schema, "prefix", s.prefix, "version", v)
	}
	return nil
}

// SchemaInfo is what Check reports: the schema's version and whether the
// role may use it.
type SchemaInfo struct {
	Version int
	// Missing lists the privileges the role lacks on the store's tables
	// (e.g. "DELETE on authbff_sessions"); empty when it has them all.
	Missing []string
}

// Check reads the schema version and the role's privileges on the tables
// without creating or migrating anything (for `authbff doctor`).
func (s *Store) Check(ctx context.Context) (SchemaInfo, error) {
	var info SchemaInfo
	if s.closed.Load() {
		return info, unavailable("check", errClosed)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	v, err := s.readVersion(ctx, s.pool)
	if err != nil {
		return info, unavailable("check", err)
	}
	info.Version = v
	if v == 0 {
		var ok bool
		err := s.pool.QueryRow(ctx, `SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)
			THEN has_schema_privilege($1, 'CREATE') ELSE has_database_privilege(current_database(), 'CREATE') END`, s.schema).Scan(&ok)
		if err != nil {
			return info, unavailable("check", err)
		}
		if !ok {
			info.Missing = append(info.Missing, "CREATE in schema "+s.schema+" (to create the tables)")
		}
		return info, nil
	}
	for _, tb := range []string{"sessions", "markers", "locks", "presence"} {
		for _, priv := range []string{"SELECT", "INSERT", "UPDATE", "DELETE"} {
			var ok bool
			name := pgx.Identifier{s.schema, s.prefix + tb}.Sanitize()
			if err := s.pool.QueryRow(ctx, "SELECT has_table_privilege($1, $2)", name, priv).Scan(&ok); err != nil {
				return info, unavailable("check", err)
			}
			if !ok {
				info.Missing = append(info.Missing, priv+" on "+s.prefix+tb)
			}
		}
	}
	return info, nil
}
