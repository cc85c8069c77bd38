package bff

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/authbff/authbff/internal/tracectx"
	"github.com/authbff/authbff/internal/tracing"
)

// Tracing (Options.TracerProvider). Every piece below is installed only
// when a provider is set: with none, b.tracer is nil and the request path,
// the store and the HTTP clients are exactly what they are without this
// file (the session-read benchmark of bench/ part otel checks it).

// newTracer is the library's tracer from Options.TracerProvider; nil
// (tracing off) without one.
func newTracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		return nil
	}
	return tp.Tracer(tracing.Name)
}

// startServerSpan starts the request's SERVER span, continuing the caller's
// trace when its traceparent was valid (as tracectx decided), and makes the
// request's trace context (logged as trace_id, sent upstream) that span's.
func (b *BFF) startServerSpan(r *http.Request, sw *statusWriter) (*http.Request, trace.Span) {
	ctx := r.Context()
	if tc := sw.trace; tc.Remote {
		ts, _ := trace.ParseTraceState(r.Header.Get(tracectx.HeaderState))
		ctx = trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID(tc.TraceID), SpanID: trace.SpanID(tc.ParentID),
			TraceFlags: trace.TraceFlags(tc.Flags), TraceState: ts, Remote: true,
		}))
	}
	method := tracing.Method(r.Method)
	route := b.route(r.URL.Path)
	scheme := "http"
	if r.TLS != nil || b.hsts {
		scheme = "https"
	}
	ctx, span := b.tracer.Start(ctx, method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(tracing.KeyMethod.String(method), tracing.KeyRoute.String(route), tracing.KeyScheme.String(scheme)))
	// A provider that records nothing (a no-op one) hands the parent back:
	// the ids tracectx made stay.
	if sc := span.SpanContext(); sc.IsValid() && !sc.IsRemote() {
		sw.trace.TraceID, sw.trace.SpanID = tracectx.TraceID(sc.TraceID()), tracectx.SpanID(sc.SpanID())
		sw.trace.Flags = byte(sc.TraceFlags()) & (tracectx.FlagSampled | tracectx.FlagRandom)
	}
	return r.WithContext(ctx), span
}

// endServerSpan records the answer on the server span and ends it: a 5xx
// fails it (4xx are the client's, as the conventions say) with the error
// code authbff answered, else the status.
func endServerSpan(span trace.Span, status int, code string) {
	span.SetAttributes(tracing.KeyStatus.Int(status))
	if code != "" {
		span.SetAttributes(tracing.KeyErrorCode.String(code))
	}
	if status >= 500 {
		if code == "" {
			code = strconv.Itoa(status)
		}
		tracing.Fail(span, code)
	}
	span.End()
}

// route is the template of the route serving path (http.route): never the
// path itself, which holds provider ids, session ids and upstream paths.
func (b *BFF) route(p string) string {
	base := b.cfg.BasePath
	switch {
	case hasPathPrefix(p, base):
		name, param, _ := strings.Cut(p[len(base)+1:], "/")
		switch name {
		case "providers", "csrf", "session", "signout", "error", "verify-request", "_log", "jwks":
			if param == "" {
				return base + "/" + name
			}
		case "signin", "callback", "backchannel-logout":
			if param == "" {
				return base + "/" + name
			}
			return base + "/" + name + "/:provider"
		case "sessions":
			if param == "" {
				return base + "/sessions"
			}
			return base + "/sessions/:id"
		}
		return base + "/*"
	case strings.HasPrefix(p, "/api/proxy/"):
		return "/api/proxy/:upstream/*"
	case p == "/healthz" || p == "/readyz":
		return p
	case b.devidp != nil && strings.HasPrefix(p, devIdPPath+"/"):
		return devIdPPath + "/*"
	}
	return "/*"
}

// span starts an INTERNAL child span of r's for one step of a use case
// (sign-in, callback) and returns r carrying it; call end when done. Off,
// r is returned as is and end does nothing.
func (b *BFF) span(r *http.Request, name string) (*http.Request, func()) {
	if b.tracer == nil {
		return r, func() {}
	}
	ctx, span := b.tracer.Start(r.Context(), name)
	return r.WithContext(ctx), func() { span.End() }
}

// spanError marks the span of ctx (a step's, else the server's) failed
// with code; with tracing off, ctx holds no recording span and it does
// nothing.
func spanError(ctx context.Context, code string) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		tracing.Fail(span, code)
	}
}

// traceClient is c (nil: a client like the one internal/oidc makes) with
// its transport recording a client span per IdP call.
func traceClient(c *http.Client, t trace.Tracer) *http.Client {
	nc := &http.Client{}
	if c != nil {
		*nc = *c
	}
	base := nc.Transport
	if base == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 256, 64
		base = tr
	}
	nc.Transport = tracing.Transport(base, t, "idp")
	return nc
}

// refreshSpan wraps a refresh grant (internal/refresh's Options.Span).
func refreshSpan(t trace.Tracer) func(ctx context.Context, grant string) (context.Context, func(error)) {
	return func(ctx context.Context, grant string) (context.Context, func(error)) {
		ctx, span := t.Start(ctx, "refresh", trace.WithAttributes(tracing.KeyGrantType.String(grant)))
		return ctx, func(err error) {
			if err != nil {
				tracing.Fail(span, tracing.ErrorClass(err))
			}
			span.End()
		}
	}
}
