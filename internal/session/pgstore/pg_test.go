package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authbff/authbff/internal/leakcheck"
	"github.com/authbff/authbff/internal/pgtest"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/pgstore"
)

func TestNewOptions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		o       pgstore.Options
		wantErr bool
	}{
		{"nothing", pgstore.Options{}, true},
		{"URL", pgstore.Options{URL: "postgres://u:p@127.0.0.1:1/db?sslmode=disable"}, false},
		{"postgresql URL", pgstore.Options{URL: "postgresql://127.0.0.1:1/db?schema=x&table_prefix=y_&op_timeout=1s&feed_lease=300ms&purge_every=-1s"}, false},
		{"bad duration", pgstore.Options{URL: "postgres://127.0.0.1:1/db?op_timeout=soon"}, true},
		{"bad URL", pgstore.Options{URL: "postgres://127.0.0.1:1/db?sslmode=nonsense"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := pgstore.New(tc.o)
			if (err != nil) != tc.wantErr {
				t.Fatalf("New = %v, want error %v", err, tc.wantErr)
			}
			if s != nil {
				s.Close()
			}
		})
	}
	s, err := pgstore.New(pgstore.Options{URL: "postgres://u:secret@127.0.0.1:1/db?search_path=tenant1,public"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Schema() != "tenant1" || s.TablePrefix() != pgstore.DefaultTablePrefix {
		t.Fatalf("schema %q prefix %q from search_path", s.Schema(), s.TablePrefix())
	}
	// Unreachable: ErrUnavailable, not a hang, not ErrNotFound.
	_, err = s.Get(context.Background(), "x")
	if !errors.Is(err, session.ErrUnavailable) || strings.Contains(err.Error(), "secret") {
		t.Fatalf("Get on an unreachable server = %v", err)
	}
}

// Several instances starting at once on an empty schema: every one gets a
// working store, the migration runs once.
func TestConcurrentMigration(t *testing.T) {
	srv := pgtest.Start(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		s := newStore(t, srv, func(o *pgstore.Options) { o.Schema, o.TablePrefix = "shared", "app_" })
		wg.Go(func() { errs[i] = s.Ping(ctx(t)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	if n := srv.Exec(`SELECT version FROM shared.app_migrations`); n != pgstore.SchemaVersion {
		t.Fatalf("%d migration rows, want %d", n, pgstore.SchemaVersion)
	}
	// The schema and prefix come from the URL too.
	s := newStore(t, srv, func(o *pgstore.Options) {
		o.URL, o.Schema = srv.URLWith("search_path=tenant_a"), ""
	})
	mustCreate(t, s, record("u|x", time.Hour))
	if n := srv.Exec(`SELECT 1 FROM tenant_a.authbff_sessions`); n != 1 {
		t.Fatalf("%d rows in tenant_a.authbff_sessions, want 1", n)
	}
}

// A schema migrated by a newer release is refused, not written to.
func TestSchemaTooNew(t *testing.T) {
	srv := pgtest.Start(t)
	s := newStore(t, srv, func(o *pgstore.Options) { o.Schema = "newer" })
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatal(err)
	}
	srv.Exec(`INSERT INTO newer.authbff_migrations (version) VALUES (99)`)
	s2 := newStore(t, srv, func(o *pgstore.Options) { o.Schema = "newer" })
	err := s2.Ping(ctx(t))
	if !errors.Is(err, session.ErrUnavailable) || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Ping on a newer schema = %v", err)
	}
}

// A call the database does not answer (a table locked by someone else)
// ends at the op timeout with ErrUnavailable.
func TestOpTimeout(t *testing.T) {
	srv := pgtest.Start(t)
	s := newStore(t, srv, func(o *pgstore.Options) { o.Schema, o.OpTimeout = "hung", 300*time.Millisecond })
	rec := record("u|hung", time.Hour)
	mustCreate(t, s, rec)
	c, err := pgx.Connect(ctx(t), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	tx, err := c.Begin(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx(t), "LOCK TABLE hung.authbff_sessions IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.Get(ctx(t), rec.ID)
	if d := time.Since(start); !errors.Is(err, session.ErrUnavailable) || d > time.Second {
		t.Fatalf("Get on a locked table = %v after %s, want ErrUnavailable within the op timeout", err, d)
	}
	_ = tx.Rollback(ctx(t))
	if _, err := s.Get(ctx(t), rec.ID); err != nil {
		t.Fatalf("Get once released: %v", err)
	}
}

// A stopped server is ErrUnavailable at once (never ErrNotFound); the
// records are there when it is back.
func TestStoppedServer(t *testing.T) {
	srv := pgtest.Start(t)
	s := newStore(t, srv, nil)
	rec := record("u|stop", time.Hour)
	mustCreate(t, s, rec)
	srv.Stop()
	start := time.Now()
	if _, err := s.Get(ctx(t), rec.ID); !errors.Is(err, session.ErrUnavailable) || time.Since(start) > 2500*time.Millisecond {
		t.Fatalf("Get on a stopped server = %v after %s", err, time.Since(start))
	}
	if _, err := s.Delete(ctx(t), rec.ID, time.Now()); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Delete on a stopped server = %v", err)
	}
	// An instance starting while the database is down answers
	// ErrUnavailable and creates its schema once the database is back.
	late := newStore(t, srv, func(o *pgstore.Options) { o.Schema = "late" })
	if err := late.Ping(ctx(t)); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Ping of a store started while the server is down = %v", err)
	}
	srv.Restart()
	back := time.Now()
	waitFor(t, 5*time.Second, "the late store to migrate", func() bool { return late.Ping(ctx(t)) == nil })
	for {
		got, err := s.Get(ctx(t), rec.ID)
		if err == nil && got.Version == rec.Version {
			break
		}
		if errors.Is(err, session.ErrNotFound) || time.Since(back) > 5*time.Second {
			t.Fatalf("Get after the restart = %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Two stores stand for two instances: a Delete on one returns only once
// the other's watch has dropped the id; when the watcher's LISTEN
// connection is killed its lease lapses (it serves nothing cached) and
// comes back with the connection.
func TestFeedAcrossInstances(t *testing.T) {
	srv := pgtest.Start(t)
	a := newStore(t, srv, func(o *pgstore.Options) { o.Schema = "feed" })
	b := newStore(t, srv, func(o *pgstore.Options) { o.Schema = "feed" })
	var dropped atomic.Int64 // when b's watch saw the end, unix ns
	var live atomic.Bool
	rec := record("u|feed", time.Hour)
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	current := b.WatchLeased(wctx, func(id string) {
		if id == rec.ID {
			time.Sleep(100 * time.Millisecond) // a slow cache drop
			dropped.CompareAndSwap(0, time.Now().UnixNano())
		}
	}, live.Store)
	waitFor(t, 5*time.Second, "b's feed to be current", func() bool { return live.Load() && current() })
	if err := a.Create(ctx(t), rec); err != nil {
		t.Fatal(err)
	}
	dropped.Store(0)
	time.Sleep(300 * time.Millisecond) // the Create's drop has run
	dropped.Store(0)
	if _, err := a.Delete(ctx(t), rec.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	returned := time.Now().UnixNano()
	if d := dropped.Load(); d == 0 || d > returned {
		t.Fatal("a's Delete returned before b's watch had dropped the session")
	}

	killed := srv.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()")
	if killed == 0 {
		t.Fatal("no LISTEN connection to terminate")
	}
	waitFor(t, time.Second, "b's lease to lapse", func() bool { return !current() })
	waitFor(t, 5*time.Second, "b's feed to be current again", func() bool { return live.Load() && current() })
	cancel()
	b.WaitWatch(wctx)
	if n := srv.Exec("SELECT 1 FROM feed.authbff_presence"); n != 0 {
		t.Fatalf("%d presence rows after the watch ended, want 0", n)
	}
}

// The background purge removes expired rows.
func TestBackgroundPurge(t *testing.T) {
	srv := pgtest.Start(t)
	s := newStore(t, srv, func(o *pgstore.Options) { o.Schema, o.PurgeEvery = "purge", 100*time.Millisecond })
	mustCreate(t, s, record("u|p", 200*time.Millisecond))
	if _, err := s.MarkUsed(ctx(t), "k", time.Now().Add(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the purge", func() bool {
		return srv.Exec("SELECT 1 FROM purge.authbff_sessions UNION ALL SELECT 1 FROM purge.authbff_markers") == 0
	})
}

func mustCreate(t *testing.T, s session.Store, rec *session.Record) {
	t.Helper()
	if err := s.Create(ctx(t), rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A role that may create in its own schema but not in the database (the
// usual grant) gets its tables made there.
func TestSchemaOfItsOwn(t *testing.T) {
	srv := pgtest.Start(t)
	srv.Exec("CREATE ROLE app LOGIN")
	srv.Exec("CREATE SCHEMA tenant AUTHORIZATION app")
	s := newStore(t, srv, func(o *pgstore.Options) {
		o.URL, o.Schema = strings.Replace(srv.URL, "postgres@", "app@", 1), "tenant"
	})
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping as the schema's owner: %v", err)
	}
	mustCreate(t, s, record("u|app", time.Hour))
}

// Close (and, for a watch, WaitWatch) leaves no goroutine of the store
// running: LISTEN connections, presence renewals, acknowledgements, purge.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	srv := pgtest.Start(t)
	before := leakcheck.Take()
	s, err := pgstore.New(pgstore.Options{URL: srv.URL, Schema: "leak", PurgeEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	var live atomic.Bool
	current := s.WatchLeased(wctx, func(string) {}, live.Store)
	waitFor(t, 5*time.Second, "the feed to be current", func() bool { return live.Load() && current() })
	rec := record("u|leak", time.Hour)
	mustCreate(t, s, rec)
	if _, err := s.Delete(ctx(t), rec.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	unlock, ok, err := s.Lock(ctx(t), "leak", time.Second)
	if !ok || err != nil {
		t.Fatalf("Lock = %v, %v", ok, err)
	}
	unlock()
	cancel()
	s.WaitWatch(wctx)
	// The watch's goroutines (all started by goWatch) are done with their
	// work: a goroutine signals its end as its last act, so it may still
	// be unwinding (mutex unlock, WaitGroup.Done) when WaitWatch returns,
	// but none may be in the LISTEN loop, the presence renewal or an
	// acknowledgement. Match "created by" lines: inlining can put
	// WatchLeased's name in the ack listener's frames; the acknowledgement
	// listener (started by goBg) runs until Close.
	for _, g := range leakcheck.Left(before,
		"created by github.com/authbff/authbff/internal/session/pgstore.(*Store).goWatch in ",
		"created by github.com/authbff/authbff/internal/session/pgstore.(*Store).WatchLeased in ") {
		if strings.Contains(g, "(*listener).") || strings.Contains(g, "(*presence).") ||
			strings.Contains(g, "(*Store).sendAck") || strings.Contains(g, "WatchLeased.func") {
			t.Fatalf("a goroutine of the watch still works after WaitWatch:\n\n%s", g)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	leakcheck.Check(t, before, 2*time.Second)
}
