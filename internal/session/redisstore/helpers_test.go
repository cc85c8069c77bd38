package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/redisstore"
)

// newStore returns a store on srv under the test's prefix, closed at cleanup.
func newStore(t testing.TB, srv *redistest.Server, mod func(*redisstore.Options)) *redisstore.Store {
	t.Helper()
	o := redisstore.Options{URL: srv.URL, Prefix: srv.Prefix}
	if mod != nil {
		mod(&o)
	}
	s, err := redisstore.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
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
	return &session.Record{
		ID:       hex.EncodeToString(b[:]),
		UserKey:  userKey,
		Created:  now,
		LastSeen: now,
		Expires:  now.Add(ttl),
		Version:  1,
		Sealed:   []byte("sealed"),
	}
}

func mustCreate(t testing.TB, s *redisstore.Store, rec *session.Record) {
	t.Helper()
	if err := s.Create(ctx(t), rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
}

// mustUpdate writes rec, its Version bumped, over its current version.
func mustUpdate(t testing.TB, s *redisstore.Store, rec *session.Record) {
	t.Helper()
	rec.Version++
	if err := s.Update(ctx(t), rec, rec.Version-1); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// mustDelete ends the record id, its tombstone lasting until its expiry.
func mustDelete(t testing.TB, s *redisstore.Store, id string) *session.Record {
	t.Helper()
	rec, err := s.Delete(ctx(t), id, time.Now())
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	return rec
}
