package tracing

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/authbff/authbff/internal/session"
)

// DBSystem is the db.system.name of a store kind as bff names them
// (memory, bolt, redis, postgres, custom): redis, postgresql, bbolt,
// memory, or other.
func DBSystem(kind string) string {
	switch kind {
	case "redis":
		return "redis"
	case "postgres":
		return "postgresql"
	case "bolt":
		return "bbolt"
	case "memory":
		return "memory"
	}
	return "other"
}

// Store returns s recording an INTERNAL span per operation, "store <op>"
// (get, create, update, delete, list_by_user, list_by_sid, mark_used,
// unmark_used, ping, lock, wait_unlocked), with db.system.name and
// db.operation.name and never a key, id or record. A store fault fails the
// span (error.type "unavailable" or the error's class); not found and a
// version conflict are answers, not failures.
//
// The returned store implements session.Watcher (with WatchWaiter and
// LeasedWatcher passed through) and the refresh Locker exactly when s
// does; Unwrap returns s.
func Store(s session.Store, t trace.Tracer, system string) session.Store {
	b := &traced{s: s, t: t, sys: KeyDBSystem.String(system)}
	w, _ := s.(session.Watcher)
	l, _ := s.(session.Locker)
	wp, lp := watchPart{w: w}, lockPart{traced: b, l: l}
	switch {
	case w != nil && l != nil:
		return &storeWL{b, wp, lp}
	case w != nil:
		return &storeW{b, wp}
	case l != nil:
		return &storeL{b, lp}
	}
	return b
}

type traced struct {
	s   session.Store
	t   trace.Tracer
	sys attribute.KeyValue
}

func (t *traced) start(ctx context.Context, op string) (context.Context, trace.Span) {
	return t.t.Start(ctx, "store "+op, trace.WithAttributes(t.sys, KeyDBOp.String(op)))
}

func end(span trace.Span, err error) {
	switch {
	case err == nil, errors.Is(err, session.ErrNotFound), errors.Is(err, session.ErrConflict):
	case errors.Is(err, session.ErrUnavailable):
		Fail(span, "unavailable")
	default:
		Fail(span, ErrorClass(err))
	}
	span.End()
}

// Get implements session.Store.
func (t *traced) Get(ctx context.Context, id string) (*session.Record, error) {
	ctx, span := t.start(ctx, "get")
	rec, err := t.s.Get(ctx, id)
	end(span, err)
	return rec, err
}

// Create implements session.Store.
func (t *traced) Create(ctx context.Context, rec *session.Record) error {
	ctx, span := t.start(ctx, "create")
	err := t.s.Create(ctx, rec)
	end(span, err)
	return err
}

// Update implements session.Store.
func (t *traced) Update(ctx context.Context, rec *session.Record, version int64) error {
	ctx, span := t.start(ctx, "update")
	err := t.s.Update(ctx, rec, version)
	end(span, err)
	return err
}

// Delete implements session.Store.
func (t *traced) Delete(ctx context.Context, id string, until time.Time) (*session.Record, error) {
	ctx, span := t.start(ctx, "delete")
	rec, err := t.s.Delete(ctx, id, until)
	end(span, err)
	return rec, err
}

// ListByUser implements session.Store.
func (t *traced) ListByUser(ctx context.Context, userKey string) ([]*session.Record, error) {
	ctx, span := t.start(ctx, "list_by_user")
	recs, err := t.s.ListByUser(ctx, userKey)
	end(span, err)
	return recs, err
}

// ListBySID implements session.Store.
func (t *traced) ListBySID(ctx context.Context, sidKey string) ([]*session.Record, error) {
	ctx, span := t.start(ctx, "list_by_sid")
	recs, err := t.s.ListBySID(ctx, sidKey)
	end(span, err)
	return recs, err
}

// MarkUsed implements session.Store.
func (t *traced) MarkUsed(ctx context.Context, key string, expires time.Time) (bool, error) {
	ctx, span := t.start(ctx, "mark_used")
	seen, err := t.s.MarkUsed(ctx, key, expires)
	end(span, err)
	return seen, err
}

// UnmarkUsed implements session.Store.
func (t *traced) UnmarkUsed(ctx context.Context, key string) error {
	ctx, span := t.start(ctx, "unmark_used")
	err := t.s.UnmarkUsed(ctx, key)
	end(span, err)
	return err
}

// Ping implements session.Store.
func (t *traced) Ping(ctx context.Context) error {
	ctx, span := t.start(ctx, "ping")
	err := t.s.Ping(ctx)
	end(span, err)
	return err
}

// Close implements session.Store (no span).
func (t *traced) Close() error { return t.s.Close() }

// Unwrap returns the traced store.
func (t *traced) Unwrap() session.Store { return t.s }

type watchPart struct{ w session.Watcher }

// Watch implements session.Watcher (no span: it runs until ctx ends).
func (p watchPart) Watch(ctx context.Context, changed func(id string), healthy func(ok bool)) {
	p.w.Watch(ctx, changed, healthy)
}

// WaitWatch implements session.WatchWaiter when the wrapped store does.
func (p watchPart) WaitWatch(ctx context.Context) {
	if ww, ok := p.w.(session.WatchWaiter); ok {
		ww.WaitWatch(ctx)
	}
}

// WatchLeased implements session.LeasedWatcher: the wrapped store's lease
// when it has one, else a plain Watch that is always current.
func (p watchPart) WatchLeased(ctx context.Context, changed func(id string), healthy func(ok bool)) func() bool {
	if lw, ok := p.w.(session.LeasedWatcher); ok {
		return lw.WatchLeased(ctx, changed, healthy)
	}
	p.w.Watch(ctx, changed, healthy)
	return func() bool { return true }
}

type lockPart struct {
	*traced
	l session.Locker
}

// Lock implements session.Locker.
func (p lockPart) Lock(ctx context.Context, name string, ttl time.Duration) (func(), bool, error) {
	ctx, span := p.start(ctx, "lock")
	unlock, ok, err := p.l.Lock(ctx, name, ttl)
	end(span, err)
	return unlock, ok, err
}

// WaitUnlocked implements session.Locker; the span lasts the wait.
func (p lockPart) WaitUnlocked(ctx context.Context, name string, poll time.Duration) error {
	ctx, span := p.start(ctx, "wait_unlocked")
	err := p.l.WaitUnlocked(ctx, name, poll)
	end(span, err)
	return err
}

// The decorator's shapes: one per combination of optional interfaces, so a
// type assertion on the wrapped store answers as it would on s.
type (
	storeW struct {
		*traced
		watchPart
	}
	storeL struct {
		*traced
		lockPart
	}
	storeWL struct {
		*traced
		watchPart
		lockPart
	}
)
