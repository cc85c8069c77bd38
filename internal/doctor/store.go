package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/authbff/authbff/internal/session/pgstore"
	"github.com/authbff/authbff/internal/validate"
)

// CheckStore checks a shared session store's SESSION_STORE spec: for
// PostgreSQL, that the database answers, the schema version (created on
// first start when missing, refused when newer than this release) and the
// role's privileges on the tables. It creates and migrates nothing. Other
// stores are not checked here (true, nothing printed).
func CheckStore(ctx context.Context, spec string, w io.Writer) bool {
	if !strings.HasPrefix(spec, "postgres://") && !strings.HasPrefix(spec, "postgresql://") {
		return true
	}
	ok := true
	report := func(pass bool, what string) {
		word := "ok  "
		if !pass {
			word, ok = "FAIL", false
		}
		fmt.Fprintf(w, "%s [store] %s\n", word, what)
	}
	shown := validate.RedactURL(spec)
	s, err := pgstore.New(pgstore.Options{URL: spec, PurgeEvery: -1})
	if err != nil {
		report(false, "SESSION_STORE="+shown+": "+validate.RedactError(err, spec).Error())
		return false
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Pool().Ping(ctx); err != nil {
		report(false, "PostgreSQL at "+shown+" does not answer: "+validate.RedactError(err, spec).Error()+
			" - check the host, port, credentials and sslmode, and that this machine can reach it")
		return false
	}
	report(true, "PostgreSQL at "+shown+" answers")
	info, err := s.Check(ctx)
	if err != nil {
		report(false, "cannot read the schema: "+validate.RedactError(err, spec).Error())
		return false
	}
	where := fmt.Sprintf("schema %q, tables %s*", s.Schema(), s.TablePrefix())
	switch {
	case info.Version == 0:
		report(true, where+": not created yet - authbff creates it on first start")
	case info.Version > pgstore.SchemaVersion:
		report(false, fmt.Sprintf("%s: at version %d, newer than this release's %d - run the newer release", where, info.Version, pgstore.SchemaVersion))
	case info.Version < pgstore.SchemaVersion:
		report(true, fmt.Sprintf("%s: at version %d - authbff migrates it to %d on start", where, info.Version, pgstore.SchemaVersion))
	default:
		report(true, fmt.Sprintf("%s: at version %d", where, info.Version))
	}
	if len(info.Missing) > 0 {
		report(false, "the role lacks "+strings.Join(info.Missing, ", ")+" - GRANT them (or give authbff its own schema)")
	} else {
		report(true, "the role has the privileges it needs")
	}
	return ok && !errors.Is(ctx.Err(), context.DeadlineExceeded)
}
