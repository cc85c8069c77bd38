package doctor

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/authbff/authbff/internal/session/pgstore"
	"github.com/authbff/authbff/internal/validate"
)

// checkPostgres checks a PostgreSQL session store: that the database
// answers, the schema version (created on first start when missing,
// refused when newer than this release) and the role's privileges on the
// tables. It creates and migrates nothing.
func checkPostgres(ctx context.Context, r *Report, spec, shown string) {
	s, err := pgstore.New(pgstore.Options{URL: spec, PurgeEvery: -1})
	if err != nil {
		r.Add(false, "store", "SESSION_STORE "+shown+": "+validate.RedactError(err, spec).Error(),
			"correct SESSION_STORE (postgres://user:pass@host:5432/db?sslmode=...)")
		return
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Pool().Ping(ctx); err != nil {
		sum := Summarize(validate.RedactError(err, spec), pgHost(spec), "SESSION_STORE (the session store's URL)")
		r.Add(false, "store", "PostgreSQL at "+shown+" does not answer: "+sum.What, sum.Fix)
		return
	}
	r.Add(true, "store", "PostgreSQL at "+shown+" answers", "")
	info, err := s.Check(ctx)
	if err != nil {
		r.Add(false, "store", "cannot read the schema: "+Shorten(validate.RedactError(err, spec).Error(), 120),
			"grant the role USAGE on the schema and SELECT on its tables")
		return
	}
	where := fmt.Sprintf("schema %q, tables %s*", s.Schema(), s.TablePrefix())
	switch {
	case info.Version == 0:
		r.Add(true, "store", where+": not created yet - authbff creates it on first start", "")
	case info.Version > pgstore.SchemaVersion:
		r.Add(false, "store", fmt.Sprintf("%s: at version %d, newer than this release's %d", where, info.Version, pgstore.SchemaVersion),
			"run the newer release")
	case info.Version < pgstore.SchemaVersion:
		r.Add(true, "store", fmt.Sprintf("%s: at version %d - authbff migrates it to %d on start", where, info.Version, pgstore.SchemaVersion), "")
	default:
		r.Add(true, "store", fmt.Sprintf("%s: at version %d", where, info.Version), "")
	}
	if len(info.Missing) > 0 {
		r.Add(false, "store", "the role lacks "+strings.Join(info.Missing, ", "), "GRANT them (or give authbff its own schema)")
	} else {
		r.Add(true, "store", "the role has the privileges it needs", "")
	}
}

// pgHost is the host:port of a PostgreSQL URL.
func pgHost(spec string) string {
	_, rest, _ := strings.Cut(spec, "://")
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	rest, _, _ = strings.Cut(rest, "/")
	rest, _, _ = strings.Cut(rest, "?")
	return rest
}
