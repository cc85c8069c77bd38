package doctor_test

import (
	"context"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/doctor"
	"github.com/authbff/authbff/internal/pgtest"
	"github.com/authbff/authbff/internal/session/pgstore"
)

// doctor reports a PostgreSQL store's reachability, schema version and the
// role's privileges, without creating anything.
func TestCheckStorePostgres(t *testing.T) {
	srv := pgtest.Start(t)
	check := func(spec string) (bool, string) {
		var b strings.Builder
		ok := doctor.CheckStore(context.Background(), spec, &b)
		return ok, b.String()
	}
	url := srv.URLWith("schema=doc")
	if ok, out := check(url); !ok || !strings.Contains(out, "not created yet") {
		t.Fatalf("fresh database: ok=%v\n%s", ok, out)
	}
	if n := srv.Exec("SELECT 1 FROM pg_namespace WHERE nspname = 'doc'"); n != 0 {
		t.Fatal("doctor created the schema")
	}
	s, err := pgstore.New(pgstore.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if ok, out := check(url); !ok || !strings.Contains(out, "at version 1") || !strings.Contains(out, "has the privileges") {
		t.Fatalf("migrated schema: ok=%v\n%s", ok, out)
	}
	srv.Exec("CREATE ROLE reader LOGIN")
	srv.Exec("GRANT USAGE ON SCHEMA doc TO reader")
	srv.Exec("GRANT SELECT ON ALL TABLES IN SCHEMA doc TO reader")
	reader := strings.Replace(srv.URLWith("schema=doc"), "postgres@", "reader@", 1)
	if ok, out := check(reader); ok || !strings.Contains(out, "DELETE on authbff_sessions") {
		t.Fatalf("read-only role: ok=%v\n%s", ok, out)
	}
	srv.Stop()
	if ok, out := check(url); ok || !strings.Contains(out, "does not answer") || strings.Contains(out, "secret") {
		t.Fatalf("stopped server: ok=%v\n%s", ok, out)
	}
}

func TestCheckStoreOthers(t *testing.T) {
	var b strings.Builder
	if !doctor.CheckStore(context.Background(), "memory", &b) || b.Len() != 0 {
		t.Fatalf("memory: %q", b.String())
	}
}
