package tracing_test

import (
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/authbff/authbff/bff/store/storetest"
	"github.com/authbff/authbff/internal/metrics"
	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
	"github.com/authbff/authbff/internal/session/redisstore"
	"github.com/authbff/authbff/internal/tracing"
)

func newTracer(t *testing.T) (*tracetest.InMemoryExporter, *sdktrace.TracerProvider) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	return exp, tp
}

// The traced store (over the metrics decorator, as bff wires it) is a
// conforming store, and each operation is a span naming the operation and
// the system (and a failure's class), never a key.
func TestTracedStoreConformance(t *testing.T) {
	exp, tp := newTracer(t)
	storetest.Run(t, func(t *testing.T) session.Store {
		s := memstore.New(memstore.Options{})
		t.Cleanup(func() { s.Close() })
		return tracing.Store(metrics.InstrumentStore(s, "memory", metrics.New()), tp.Tracer("test"), tracing.DBSystem("memory"))
	})
	ops := map[string]bool{}
	for _, s := range exp.GetSpans() {
		op, ok := strings.CutPrefix(s.Name, "store ")
		if !ok {
			t.Fatalf("span %q", s.Name)
		}
		ops[op] = true
		attrs := map[string]string{}
		for _, a := range s.Attributes {
			attrs[string(a.Key)] = a.Value.Emit()
		}
		delete(attrs, "error.type") // a case that makes the store fail
		if len(attrs) != 2 || attrs["db.system.name"] != "memory" || attrs["db.operation.name"] != op {
			t.Fatalf("span %q attributes %v: want only db.system.name, db.operation.name (and error.type)", s.Name, attrs)
		}
	}
	for _, op := range []string{"get", "create", "update", "delete", "list_by_user", "list_by_sid", "mark_used", "ping"} {
		if !ops[op] {
			t.Errorf("no span of %s (got %v)", op, ops)
		}
	}
}

// Over Redis the change feed (with its lease) and the refresh lock stay
// visible through the wrapper, and the lock is traced.
func TestTracedRedisStoreKeepsItsInterfaces(t *testing.T) {
	redistest.SkipShort(t)
	srv := redistest.Start(t)
	rs, err := redisstore.New(redisstore.Options{URL: srv.URL, Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	exp, tp := newTracer(t)
	s := tracing.Store(metrics.InstrumentStore(rs, "redis", metrics.New()), tp.Tracer("test"), tracing.DBSystem("redis"))
	for name, ok := range map[string]bool{
		"Watcher":       is[session.Watcher](s),
		"LeasedWatcher": is[session.LeasedWatcher](s),
		"WatchWaiter":   is[session.WatchWaiter](s),
		"Locker":        is[session.Locker](s),
	} {
		if !ok {
			t.Errorf("the traced redis store is not a %s", name)
		}
	}
	unlock, got, err := s.(session.Locker).Lock(t.Context(), "x", time.Second)
	if err != nil || !got {
		t.Fatalf("Lock = %v, %v", got, err)
	}
	unlock()
	if sp := exp.GetSpans(); len(sp) != 1 || sp[0].Name != "store lock" || sp[0].Attributes[0].Value.Emit() != "redis" {
		t.Fatalf("spans %+v", sp)
	}
	if is[session.Watcher](tracing.Store(memstore.New(memstore.Options{}), tp.Tracer("test"), "memory")) {
		t.Error("a traced memstore claims to be a Watcher")
	}
}

func is[T any](v any) bool { _, ok := v.(T); return ok }
