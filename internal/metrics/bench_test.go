package metrics_test

import (
	"testing"
	"time"

	"github.com/authbff/authbff/internal/metrics"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
)

// BenchmarkSessionRead is the cost metrics add to every session read: one
// pre-resolved counter increment (a few ns, 0 allocs).
func BenchmarkSessionRead(b *testing.B) {
	m := metrics.New()
	b.ReportAllocs()
	for b.Loop() {
		m.SessionRead(metrics.ReadOK)
	}
}

// BenchmarkSessionReadNil is the same call with metrics off.
func BenchmarkSessionReadNil(b *testing.B) {
	var m *metrics.Metrics
	b.ReportAllocs()
	for b.Loop() {
		m.SessionRead(metrics.ReadOK)
	}
}

// BenchmarkProxy records a proxied call (lookup by upstream name and code).
func BenchmarkProxy(b *testing.B) {
	m := metrics.New()
	b.ReportAllocs()
	for b.Loop() {
		m.Proxy("demo", 200, time.Millisecond)
	}
}

// BenchmarkStoreGet compares a memstore Get with and without the decorator.
func BenchmarkStoreGet(b *testing.B) {
	ms := memstore.New(memstore.Options{CleanupInterval: -1})
	b.Cleanup(func() { ms.Close() })
	rec := &session.Record{ID: "id", UserKey: "p|u", Expires: time.Now().Add(time.Hour), Sealed: make([]byte, 512)}
	if err := ms.Create(b.Context(), rec); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		s    session.Store
	}{{"bare", ms}, {"instrumented", metrics.InstrumentStore(ms, "memory", metrics.New())}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.s.Get(ctx, "id"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
