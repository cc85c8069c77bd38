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
// role's privileges, without creating anything; every FAIL carries a fix.
func TestCheckStorePostgres(t *testing.T) {
	srv := pgtest.Start(t)
	check := func(spec string) (bool, string) {
		r := &doctor.Report{}
		doctor.CheckStore(context.Background(), r, spec)
		var b strings.Builder
		r.WriteText(&b)
		out := b.String()
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "FAIL") && !strings.Contains(l, "fix:") {
				t.Errorf("FAIL line without a fix: %q", l)
			}
		}
		return r.OK(), out
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
