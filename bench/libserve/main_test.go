package main

import (
	"context"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/refresh"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
)

// shared is a store with the optional interfaces of a shared store.
type shared struct{ *memstore.Store }

func (shared) Watch(context.Context, func(string), func(bool)) {}
func (shared) Lock(context.Context, string, time.Duration) (func(), bool, error) {
	return func() {}, true, nil
}
func (shared) WaitUnlocked(context.Context, string, time.Duration) error { return nil }

func TestWrapCountsAndKeepsOptionalInterfaces(t *testing.T) {
	ms := memstore.New(memstore.Options{CleanupInterval: -1})
	defer ms.Close()
	for _, tc := range []struct {
		name          string
		st            session.Store
		watch, locker bool
	}{
		{"memory", ms, false, false},
		{"shared", shared{ms}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, c := wrap(tc.st)
			if _, ok := w.(session.Watcher); ok != tc.watch {
				t.Errorf("Watcher: %v, want %v", ok, tc.watch)
			}
			if _, ok := w.(refresh.Locker); ok != tc.locker {
				t.Errorf("Locker: %v, want %v", ok, tc.locker)
			}
			ctx := context.Background()
			rec := &session.Record{ID: "x-" + tc.name, Expires: time.Now().Add(time.Hour)}
			if err := w.Create(ctx, rec); err != nil {
				t.Fatal(err)
			}
			next := *rec
			next.Version++
			if err := w.Update(ctx, &next, rec.Version); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Get(ctx, rec.ID); err != nil {
				t.Fatal(err)
			}
			_, _ = w.Get(ctx, "missing")
			if c.gets.Load() != 2 || c.saves.Load() != 2 {
				t.Errorf("gets %d saves %d, want 2 and 2 (a Create and an Update)", c.gets.Load(), c.saves.Load())
			}
		})
	}
}
