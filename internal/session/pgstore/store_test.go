package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbff/authbff/bff/store/storetest"
	"github.com/authbff/authbff/internal/pgtest"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/pgstore"
)

// One PostgreSQL cluster per test; each store gets a schema of its own.
var schemaN atomic.Int64

// newStore returns a store on srv in a fresh schema, closed at cleanup.
func newStore(t testing.TB, srv *pgtest.Server, mod func(*pgstore.Options)) *pgstore.Store {
	t.Helper()
	o := pgstore.Options{URL: srv.URL, Schema: fmt.Sprintf("s%d", schemaN.Add(1))}
	if mod != nil {
		mod(&o)
	}
	s, err := pgstore.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	srv := pgtest.Start(t)
	storetest.Run(t, func(t *testing.T) session.Store {
		return newStore(t, srv, nil)
	})
}

func ctx(t testing.TB) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func record(userKey string, ttl time.Duration) *session.Record {
	var b [32]byte
	_, _ = rand.Read(b[:])
	now := time.Now()
	return &session.Record{ID: hex.EncodeToString(b[:]), UserKey: userKey, Created: now, LastSeen: now,
		Expires: now.Add(ttl), Version: 1, Sealed: []byte("sealed")}
}
