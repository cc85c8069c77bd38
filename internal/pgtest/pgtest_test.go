package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authbff/authbff/internal/pgtest"
)

// The server answers, goes away on Stop and comes back with its data on
// Restart.
func TestStartStopRestart(t *testing.T) {
	s := pgtest.Start(t)
	s.Exec("CREATE TABLE kept (v int)")
	s.Exec("INSERT INTO kept VALUES (7)")
	s.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if c, err := pgx.Connect(ctx, s.URL); err == nil {
		c.Close(ctx)
		t.Fatal("connected to a stopped server")
	}
	s.Restart()
	if n := s.Exec("SELECT v FROM kept WHERE v = 7"); n != 1 {
		t.Fatalf("after restart: %d rows, want 1", n)
	}
}
