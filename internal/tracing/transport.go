package tracing

import (
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Transport returns base (http.DefaultTransport when nil) recording a
// CLIENT span per request, child of the span in the request's context, and
// sending that span as the request's traceparent (W3C Trace Context), so the
// server called continues the trace under it. peer ("idp", "upstream") is
// recorded as authbff.peer. The span is named after the method (the
// conventions' "{method}": a URL path may hold ids) and carries
// http.request.method, url.scheme, server.address, server.port and
// http.response.status_code, and for an identity provider's fixed
// endpoints (peer "idp") url.path (never the query string): an upstream
// API's path is the SPA's or the host's to make, and may hold a user's id
// or e-mail (/users/ada@example.com), so it is not recorded (the server
// span's http.route, /api/proxy/:upstream/*, is the template). A status of
// 400 or more, or a transport error, fails the span with the status or the
// error's class.
//
// The request is cloned before its headers change (a RoundTripper must not
// modify its request).
func Transport(base http.RoundTripper, t trace.Tracer, peer string) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, t: t, peer: KeyPeer.String(peer), path: peer == "idp"}
}

type transport struct {
	base http.RoundTripper
	t    trace.Tracer
	peer attribute.KeyValue
	path bool // record url.path (an identity provider's endpoints only)
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	method := Method(req.Method)
	attrs := make([]attribute.KeyValue, 0, 7)
	attrs = append(attrs, KeyMethod.String(method), t.peer)
	if t.path {
		attrs = append(attrs, KeyPath.String(req.URL.EscapedPath()))
	}
	attrs = append(attrs, serverAttrs(req.URL.Scheme, req.URL.Host)...)
	ctx, span := t.t.Start(req.Context(), method, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	defer span.End()
	out := req.Clone(ctx)
	// A provider that records nothing (a no-op one) makes no span of its
	// own: the traceparent the caller set, if any, stays.
	if sc := span.SpanContext(); sc.IsValid() && !sc.IsRemote() {
		out.Header.Del("Traceparent")
		out.Header.Del("Tracestate")
		Propagator.Inject(ctx, propagation.HeaderCarrier(out.Header))
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		Fail(span, ErrorClass(err))
		return resp, err
	}
	span.SetAttributes(KeyStatus.Int(resp.StatusCode))
	if resp.StatusCode >= 400 {
		Fail(span, strconv.Itoa(resp.StatusCode))
	}
	return resp, nil
}
