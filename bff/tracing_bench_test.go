package bff_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/authbff/authbff/bff"
)

// discard is a span exporter that drops every batch: the SDK's whole
// recording and batching cost without a network.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkSessionReadTraced is the session read (as
// BenchmarkSessionReadShaped) with tracing off (no TracerProvider: nothing
// installed), with a provider whose sampler records nothing ("unsampled"),
// and with every span recorded and batched ("on"). "off" must cost what the
// read cost before tracing existed.
func BenchmarkSessionReadTraced(b *testing.B) {
	for _, tc := range []struct {
		name string
		tp   func() *sdktrace.TracerProvider
	}{
		{"off", func() *sdktrace.TracerProvider { return nil }},
		{"unsampled", func() *sdktrace.TracerProvider {
			return sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
		}},
		{"on", func() *sdktrace.TracerProvider {
			return sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tp := tc.tp()
			benchShapedRead(b, func(o *bff.Options) {
				if tp != nil {
					o.TracerProvider = tp
				}
			})
			if tp != nil {
				_ = tp.Shutdown(context.Background())
			}
		})
	}
}
