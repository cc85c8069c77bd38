package main

import (
	"cmp"
	"context"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/pgstore"
)

// pgSizes is the on-disk size of pgstore's sessions table: its heap (with
// TOAST) and its indexes, in bytes.
type pgSizes struct{ table, indexes int64 }

func pgSize(ctx context.Context, s *pgstore.Store) (pgSizes, error) {
	name := pgx.Identifier{s.Schema(), s.TablePrefix() + "sessions"}.Sanitize()
	var z pgSizes
	err := s.Pool().QueryRow(ctx, "SELECT pg_table_size($1::regclass), pg_indexes_size($1::regclass)", name).Scan(&z.table, &z.indexes)
	return z, err
}

// seedPostgres writes n sessions with COPY into pgstore's sessions table
// (created by the store itself first), the rows pgstore.Create writes:
// -workers goroutines each copying batches of -redis-batch records. The
// size per session is the growth of the table and its indexes (after
// ANALYZE; the free space map is not vacuumed) divided by n.
func seedPostgres(ctx context.Context, g *generator, u string, n, batch, workers int) (seedResult, map[string]any, error) {
	st, err := pgstore.New(pgstore.Options{URL: u, PurgeEvery: -1, OpTimeout: -1})
	if err != nil {
		return seedResult{}, nil, err
	}
	defer st.Close()
	if err := st.Ping(ctx); err != nil {
		return seedResult{}, nil, err
	}
	before, err := pgSize(ctx, st)
	if err != nil {
		return seedResult{}, nil, err
	}
	table := pgx.Identifier{st.Schema(), st.TablePrefix() + "sessions"}
	cols := []string{"id", "user_key", "sid", "sid_key", "created", "last_seen", "expires", "user_agent", "version", "sealed", "revoke", "ended"}
	ranges := make(chan int)
	go func() {
		defer close(ranges)
		for lo := 0; lo < n; lo += batch {
			ranges <- lo
		}
	}()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		res   seedResult
	)
	fail := func(err error) {
		mu.Lock()
		first = cmp.Or(first, err)
		mu.Unlock()
	}
	for range workers {
		s, err := g.sealer()
		if err != nil {
			return seedResult{}, nil, err
		}
		wg.Go(func() {
			for lo := range ranges {
				mu.Lock()
				failed := first != nil
				mu.Unlock()
				if failed {
					continue // drain
				}
				hi := min(lo+batch, n)
				rows := make([][]any, 0, hi-lo)
				for i := lo; i < hi; i++ {
					tok, err := session.NewToken()
					if err != nil {
						fail(err)
						break
					}
					rec, err := s.record(ctx, tok, expiry(i, n))
					if err != nil {
						fail(err)
						break
					}
					if i < len(g.tokens) {
						g.tokens[i] = tok
					}
					if i == n/2 {
						mu.Lock()
						res.probeToken, res.sealedBytes = tok, len(rec.Sealed)
						mu.Unlock()
					}
					rows = append(rows, []any{rec.ID, []byte(rec.UserKey), []byte(rec.SID), []byte(rec.SIDKey()),
						rec.Created, rec.LastSeen, rec.Expires, []byte(rec.UserAgent), rec.Version, rec.Sealed, rec.Revoke, false})
				}
				if _, err := st.Pool().CopyFrom(ctx, table, cols, pgx.CopyFromRows(rows)); err != nil {
					fail(err)
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return seedResult{}, nil, first
	}
	if _, err := st.Pool().Exec(ctx, "ANALYZE "+table.Sanitize()); err != nil {
		return seedResult{}, nil, err
	}
	after, err := pgSize(ctx, st)
	if err != nil {
		return seedResult{}, nil, err
	}
	if n > 0 {
		res.perSession = float64(after.table+after.indexes-before.table-before.indexes) / float64(n)
	}
	extra := map[string]any{"table_bytes": after.table, "index_bytes": after.indexes}
	if n > 0 {
		extra["table_bytes_per_session"] = (after.table - before.table) / int64(n)
		extra["index_bytes_per_session"] = (after.indexes - before.indexes) / int64(n)
	}
	return res, extra, nil
}

// isPostgres reports whether spec names a PostgreSQL store.
func isPostgres(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}
