package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/authbff/authbff/bff/store/storetest"
	"github.com/authbff/authbff/internal/metrics"
	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/refresh"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
	"github.com/authbff/authbff/internal/session/redisstore"
)

// The decorator is a conforming store.
func TestInstrumentedStoreConformance(t *testing.T) {
	m := metrics.New()
	storetest.Run(t, func(t *testing.T) session.Store {
		s := memstore.New(memstore.Options{})
		t.Cleanup(func() { s.Close() })
		return metrics.InstrumentStore(s, "memory", m)
	})
	f := gather(t, m)
	for _, op := range []string{"get", "create", "update", "delete", "list_by_user"} {
		if n, _ := f.value("authbff_store_operation_duration_seconds", "store", "memory", "op", op); n == 0 {
			t.Errorf("op %s was not timed", op)
		}
	}
	// The suite's missing ids are ErrNotFound: not faults.
	f.want(t, 0, "authbff_store_errors_total", "store", "memory", "op", "get")
}

// A real Redis store keeps the Watcher and refresh.Locker it implements,
// and its lock operations are timed.
func TestInstrumentedRedisStore(t *testing.T) {
	srv := redistest.Start(t)
	rs, err := redisstore.New(redisstore.Options{URL: srv.URL, Prefix: srv.Prefix})
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	t.Cleanup(func() { rs.Close() })
	m := metrics.New()
	s := metrics.InstrumentStore(rs, "redis", m)
	if _, ok := s.(session.Watcher); !ok {
		t.Error("instrumented redis store is not a session.Watcher")
	}
	l, ok := s.(refresh.Locker)
	if !ok {
		t.Fatal("instrumented redis store is not a refresh.Locker")
	}
	if _, ok := s.(metrics.SessionCounter); ok {
		t.Error("instrumented redis store claims to count sessions")
	}
	ctx := t.Context()
	unlock, got, err := l.Lock(ctx, "x", time.Second)
	if err != nil || !got {
		t.Fatalf("Lock = %v, %v", got, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Millisecond)
	err = l.WaitUnlocked(wctx, "x", 10*time.Millisecond)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitUnlocked on a held lock = %v; want a deadline", err)
	}
	unlock()
	if err := l.WaitUnlocked(ctx, "x", 10*time.Millisecond); err != nil {
		t.Fatalf("WaitUnlocked after unlock: %v", err)
	}
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get missing = %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}

	srv.Stop() // an outage is a fault
	if err := s.Ping(ctx); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Ping with Redis down = %v", err)
	}

	f := gather(t, m)
	f.want(t, 1, "authbff_store_operation_duration_seconds", "store", "redis", "op", "lock")
	f.want(t, 2, "authbff_store_operation_duration_seconds", "store", "redis", "op", "wait_unlocked")
	f.want(t, 0, "authbff_store_errors_total", "store", "redis", "op", "wait_unlocked")
	f.want(t, 0, "authbff_store_errors_total", "store", "redis", "op", "get")
	f.want(t, 2, "authbff_store_operation_duration_seconds", "store", "redis", "op", "ping")
	f.want(t, 1, "authbff_store_errors_total", "store", "redis", "op", "ping")
	if _, ok := f["authbff_sessions_active"]; ok {
		t.Error("authbff_sessions_active present for a store that cannot count")
	}
}

// memstore counts through its Len method: authbff_sessions_active follows
// the records saved and deleted, read at scrape time.
func TestSessionsActiveFromMemstore(t *testing.T) {
	ms := memstore.New(memstore.Options{CleanupInterval: -1})
	t.Cleanup(func() { ms.Close() })
	m := metrics.New()
	s := metrics.InstrumentStore(ms, "memory", m)
	if _, ok := s.(metrics.SessionCounter); !ok {
		t.Fatal("instrumented memstore is not a SessionCounter")
	}
	if _, ok := s.(session.Watcher); ok {
		t.Error("instrumented memstore claims to be a Watcher")
	}
	base := serve(t, m, nil)
	ctx := t.Context()
	for _, id := range []string{"a", "b", "c"} {
		rec := &session.Record{ID: id, UserKey: "p|u", Expires: time.Now().Add(time.Hour)}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	scrape(t, base).want(t, 3, "authbff_sessions_active")
	if _, err := s.Delete(ctx, "b", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	f := scrape(t, base)
	f.want(t, 2, "authbff_sessions_active")
	f.want(t, 2, "authbff_store_operation_duration_seconds", "store", "memory", "op", "count")
}

// fakeStore fails as told and counts calls to its optional methods.
type fakeStore struct {
	err     error
	watched int
	n       int
}

func (f *fakeStore) Get(context.Context, string) (*session.Record, error) { return nil, f.err }
func (f *fakeStore) Create(context.Context, *session.Record) error        { return f.err }
func (f *fakeStore) Update(context.Context, *session.Record, int64) error { return f.err }
func (f *fakeStore) Delete(context.Context, string, time.Time) (*session.Record, error) {
	return nil, f.err
}
func (f *fakeStore) ListByUser(context.Context, string) ([]*session.Record, error) {
	return nil, f.err
}
func (f *fakeStore) ListBySID(context.Context, string) ([]*session.Record, error) {
	return nil, f.err
}
func (f *fakeStore) MarkUsed(context.Context, string, time.Time) (bool, error) { return false, f.err }
func (f *fakeStore) UnmarkUsed(context.Context, string) error                  { return f.err }
func (f *fakeStore) Ping(context.Context) error                                { return f.err }
func (f *fakeStore) Close() error                                              { return nil }

type (
	fw   struct{ *fakeStore }
	fl   struct{ *fakeStore }
	fc   struct{ *fakeStore }
	fwl  struct{ *fakeStore }
	fwc  struct{ *fakeStore }
	flc  struct{ *fakeStore }
	fwlc struct {
		*fakeStore
	}
)

func (f *fakeStore) watch(_ context.Context, _ func(string), healthy func(bool)) {
	f.watched++
	healthy(true)
}
func (f *fakeStore) lock(context.Context, string, time.Duration) (func(), bool, error) {
	return func() {}, true, f.err
}
func (f *fakeStore) wait(context.Context, string, time.Duration) error { return f.err }
func (f *fakeStore) count(context.Context) (int, error)                { return f.n, f.err }

func (f fw) Watch(c context.Context, ch func(string), h func(bool))   { f.watch(c, ch, h) }
func (f fwl) Watch(c context.Context, ch func(string), h func(bool))  { f.watch(c, ch, h) }
func (f fwc) Watch(c context.Context, ch func(string), h func(bool))  { f.watch(c, ch, h) }
func (f fwlc) Watch(c context.Context, ch func(string), h func(bool)) { f.watch(c, ch, h) }
func (f fl) Lock(c context.Context, n string, d time.Duration) (func(), bool, error) {
	return f.lock(c, n, d)
}
func (f fwl) Lock(c context.Context, n string, d time.Duration) (func(), bool, error) {
	return f.lock(c, n, d)
}
func (f flc) Lock(c context.Context, n string, d time.Duration) (func(), bool, error) {
	return f.lock(c, n, d)
}
func (f fwlc) Lock(c context.Context, n string, d time.Duration) (func(), bool, error) {
	return f.lock(c, n, d)
}
func (f fl) WaitUnlocked(c context.Context, n string, d time.Duration) error  { return f.wait(c, n, d) }
func (f fwl) WaitUnlocked(c context.Context, n string, d time.Duration) error { return f.wait(c, n, d) }
func (f flc) WaitUnlocked(c context.Context, n string, d time.Duration) error { return f.wait(c, n, d) }
func (f fwlc) WaitUnlocked(c context.Context, n string, d time.Duration) error {
	return f.wait(c, n, d)
}
func (f fc) Count(c context.Context) (int, error)   { return f.count(c) }
func (f fwc) Count(c context.Context) (int, error)  { return f.count(c) }
func (f flc) Count(c context.Context) (int, error)  { return f.count(c) }
func (f fwlc) Count(c context.Context) (int, error) { return f.count(c) }

// Every combination of optional interfaces survives the decorator, and
// each one still reaches the wrapped store.
func TestOptionalInterfacesPreserved(t *testing.T) {
	tests := []struct {
		name    string
		mk      func(*fakeStore) session.Store
		w, l, c bool
	}{
		{"none", func(f *fakeStore) session.Store { return f }, false, false, false},
		{"watcher", func(f *fakeStore) session.Store { return fw{f} }, true, false, false},
		{"locker", func(f *fakeStore) session.Store { return fl{f} }, false, true, false},
		{"counter", func(f *fakeStore) session.Store { return fc{f} }, false, false, true},
		{"watcher+locker", func(f *fakeStore) session.Store { return fwl{f} }, true, true, false},
		{"watcher+counter", func(f *fakeStore) session.Store { return fwc{f} }, true, false, true},
		{"locker+counter", func(f *fakeStore) session.Store { return flc{f} }, false, true, true},
		{"all", func(f *fakeStore) session.Store { return fwlc{f} }, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeStore{n: 7}
			inner := tt.mk(f)
			m := metrics.New()
			s := metrics.InstrumentStore(inner, "fake", m)
			if u, ok := s.(interface{ Unwrap() session.Store }); !ok || u.Unwrap() != inner {
				t.Error("Unwrap does not return the wrapped store")
			}
			w, isW := s.(session.Watcher)
			l, isL := s.(refresh.Locker)
			c, isC := s.(metrics.SessionCounter)
			if isW != tt.w || isL != tt.l || isC != tt.c {
				t.Fatalf("watcher %v locker %v counter %v; want %v %v %v", isW, isL, isC, tt.w, tt.l, tt.c)
			}
			ctx := t.Context()
			if isW {
				live := false
				w.Watch(ctx, func(string) {}, func(ok bool) { live = ok })
				if f.watched != 1 || !live {
					t.Error("Watch did not reach the wrapped store")
				}
			}
			if isL {
				if _, ok, _ := l.Lock(ctx, "n", time.Second); !ok {
					t.Error("Lock did not reach the wrapped store")
				}
				_ = l.WaitUnlocked(ctx, "n", time.Millisecond)
			}
			fm := gather(t, m)
			if isC {
				if n, err := c.Count(ctx); n != 7 || err != nil {
					t.Errorf("Count = %d, %v", n, err)
				}
				fm.want(t, 7, "authbff_sessions_active")
			} else if _, ok := fm["authbff_sessions_active"]; ok {
				t.Error("authbff_sessions_active without a counting store")
			}
			if isL {
				fm.want(t, 1, "authbff_store_operation_duration_seconds", "store", "fake", "op", "lock")
				fm.want(t, 1, "authbff_store_operation_duration_seconds", "store", "fake", "op", "wait_unlocked")
			}
		})
	}
}

// Which errors are store faults.
func TestStoreErrorsCounted(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		fault bool
	}{
		{"nil", nil, false},
		{"not found", fmt.Errorf("x: %w", session.ErrNotFound), false},
		{"unavailable", fmt.Errorf("redis: %w: connection refused", session.ErrUnavailable), true},
		{"unavailable by deadline", fmt.Errorf("redis: %w: %w", session.ErrUnavailable, context.DeadlineExceeded), true},
		{"client went away", fmt.Errorf("redis: %w: %w", session.ErrUnavailable, context.Canceled), false},
		{"plain deadline", fmt.Errorf("wait: %w", context.DeadlineExceeded), false},
		{"other error", errors.New("bolt: encode: boom"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := metrics.New()
			s := metrics.InstrumentStore(&fakeStore{err: tt.err}, "fake", m)
			ctx := t.Context()
			_, _ = s.Get(ctx, "id")
			_ = s.Create(ctx, &session.Record{ID: "id"})
			_ = s.Update(ctx, &session.Record{ID: "id"}, 1)
			_, _ = s.Delete(ctx, "id", time.Now())
			_, _ = s.ListByUser(ctx, "u")
			_ = s.Ping(ctx)
			want := 0.0
			if tt.fault {
				want = 1
			}
			f := gather(t, m)
			for _, op := range []string{"get", "create", "update", "delete", "list_by_user", "ping"} {
				f.want(t, want, "authbff_store_errors_total", "store", "fake", "op", op)
				f.want(t, 1, "authbff_store_operation_duration_seconds", "store", "fake", "op", op)
			}
		})
	}
}

// A failing count leaves the gauge out of the scrape rather than failing
// it, and counts a store error.
func TestSessionsActiveCountFailure(t *testing.T) {
	f := &fakeStore{err: fmt.Errorf("bolt: %w", session.ErrUnavailable)}
	m := metrics.New()
	_ = metrics.InstrumentStore(fc{f}, "bolt", m)
	fm := scrape(t, serve(t, m, nil))
	if _, ok := fm["authbff_sessions_active"]; ok {
		t.Error("authbff_sessions_active present although the count failed")
	}
	// The registry collects concurrently: a scrape's own failed count may
	// land after the error counter was read. The next scrape sees it: 1 (the
	// first scrape's) or 2 (both), never 0.
	fm = scrape(t, serve(t, m, nil))
	if n, _ := fm.value("authbff_store_errors_total", "store", "bolt", "op", "count"); n != 1 && n != 2 {
		t.Errorf("authbff_store_errors_total{store=bolt,op=count} = %v after two failed scrapes; want 1 or 2", n)
	}
}
