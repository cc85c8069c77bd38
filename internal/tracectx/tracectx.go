// Package tracectx carries W3C Trace Context (https://www.w3.org/TR/trace-context/)
// through authbff: it reads a request's traceparent header (or starts a new
// trace when there is none or it is invalid), gives the trace id for the
// request's log lines, and makes the traceparent sent to upstreams, naming
// this request as their parent span.
//
// It records no spans itself; it only keeps the ids flowing so that
// authbff's logs and the upstreams' traces can be joined.
package tracectx

import (
	"context"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/http"
)

// Header names (canonical form).
const (
	HeaderParent = "Traceparent"
	HeaderState  = "Tracestate"
)

// Trace flags.
const (
	// FlagSampled asks downstream tracers to record the trace.
	FlagSampled byte = 0x01
	// FlagRandom says the trace id's right 7 bytes are random (Trace Context Level 2).
	FlagRandom byte = 0x02
	// knownFlags are the flags forwarded; the others are reserved and
	// must be sent as zero.
	knownFlags = FlagSampled | FlagRandom
)

// parentLen is the length of a version 00 traceparent.
const parentLen = 55

// ErrInvalid is returned by Parse for a traceparent that does not follow
// the W3C format.
var ErrInvalid = errors.New("tracectx: invalid traceparent")

// TraceID is a 16-byte trace id; the zero value is invalid.
type TraceID [16]byte

// String returns the id as 32 lower-case hex digits.
func (t TraceID) String() string { return hex.EncodeToString(t[:]) }

// IsValid reports whether t is not all zeros.
func (t TraceID) IsValid() bool { return t != TraceID{} }

// SpanID is an 8-byte span (parent) id; the zero value is invalid.
type SpanID [8]byte

// String returns the id as 16 lower-case hex digits.
func (s SpanID) String() string { return hex.EncodeToString(s[:]) }

// IsValid reports whether s is not all zeros.
func (s SpanID) IsValid() bool { return s != SpanID{} }

// Parent is what a traceparent header says: the trace, the caller's span,
// and the trace flags.
type Parent struct {
	TraceID TraceID
	SpanID  SpanID
	Flags   byte
}

// Parse parses a traceparent header value. It accepts version 00 (exactly
// 55 characters) and, as the specification asks, any later version but ff
// whose first 55 characters have the version 00 shape followed by nothing
// or "-". The trace and parent ids must be lower-case hex and not all
// zeros. Errors wrap ErrInvalid.
func Parse(v string) (Parent, error) {
	v = trimOWS(v)
	var p Parent
	if len(v) < parentLen || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return p, ErrInvalid
	}
	var ver [1]byte
	if !lowerHex(ver[:], v[0:2]) || ver[0] == 0xff {
		return p, ErrInvalid
	}
	if ver[0] == 0 && len(v) != parentLen || ver[0] != 0 && len(v) > parentLen && v[parentLen] != '-' {
		return p, ErrInvalid
	}
	var flags [1]byte
	if !lowerHex(p.TraceID[:], v[3:35]) || !lowerHex(p.SpanID[:], v[36:52]) || !lowerHex(flags[:], v[53:55]) {
		return p, ErrInvalid
	}
	if !p.TraceID.IsValid() || !p.SpanID.IsValid() {
		return p, ErrInvalid
	}
	p.Flags = flags[0]
	return p, nil
}

// trimOWS drops the optional white space (RFC 9110) around a header value.
func trimOWS(v string) string {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// lowerHex decodes s (lower-case hex only, len(s) == 2*len(dst)) into dst.
func lowerHex(dst []byte, s string) bool {
	for i := range dst {
		hi, lo := hexValue[s[2*i]], hexValue[s[2*i+1]]
		if (hi|lo)&invalidNibble != 0 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// invalidNibble marks a byte that is not a lower-case hex digit in hexValue.
const invalidNibble = 0xf0

// hexValue maps a lower-case hex digit to its value, anything else to
// invalidNibble (read-only; a table keeps the per-request parse branch-free).
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = invalidNibble
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()

// Context is one request's place in a trace: the trace it belongs to, the
// span id authbff uses for it, the caller's span (when the trace came with
// the request) and the flags.
type Context struct {
	TraceID TraceID
	// SpanID is this request's span: the parent id sent to upstreams.
	SpanID SpanID
	// ParentID is the caller's span; zero when the trace began here.
	ParentID SpanID
	// Flags are the trace flags sent on (only FlagSampled and FlagRandom).
	Flags byte
	// Remote reports whether the trace came from a valid traceparent; only
	// then may the caller's tracestate be forwarded.
	Remote bool
}

// Start continues the trace of a traceparent header value, or starts a new
// one (sampled, random ids) when v is empty or invalid. Either way the
// request gets a new span id. It does not allocate.
func Start(v string) Context {
	if v != "" {
		if p, err := Parse(v); err == nil {
			return Context{TraceID: p.TraceID, SpanID: newSpanID(), ParentID: p.SpanID, Flags: p.Flags & knownFlags, Remote: true}
		}
	}
	var t TraceID
	for !t.IsValid() {
		putUint64(t[:8], rand.Uint64())
		putUint64(t[8:], rand.Uint64())
	}
	return Context{TraceID: t, SpanID: newSpanID(), Flags: FlagSampled | FlagRandom}
}

// FromHeader is Start for a request's headers: exactly one traceparent
// header is continued; none, several or an invalid one start a new trace.
func FromHeader(h http.Header) Context {
	vs := h.Values(HeaderParent)
	if len(vs) != 1 {
		return Start("")
	}
	return Start(vs[0])
}

// newSpanID returns a random, valid span id. math/rand/v2's global source
// is ChaCha8 seeded by the runtime: unpredictable enough for ids that are
// not secrets, and free of locks and allocation.
func newSpanID() SpanID {
	var s SpanID
	for !s.IsValid() {
		putUint64(s[:], rand.Uint64())
	}
	return s
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}

// Traceparent returns the header value to send upstream: version 00, the
// trace id, this request's span id as the parent, and the flags.
func (c Context) Traceparent() string {
	var b [parentLen]byte
	b[0], b[1], b[2] = '0', '0', '-'
	hex.Encode(b[3:35], c.TraceID[:])
	b[35] = '-'
	hex.Encode(b[36:52], c.SpanID[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{c.Flags})
	return string(b[:])
}

// Sampled reports whether the sampled flag is set.
func (c Context) Sampled() bool { return c.Flags&FlagSampled != 0 }

// Inject sets the traceparent of an outgoing (upstream) request's headers
// and drops a tracestate that does not belong to this trace: tracestate is
// forwarded only when the trace came from the request (Remote).
func (c Context) Inject(h http.Header) {
	h.Set(HeaderParent, c.Traceparent())
	if !c.Remote {
		h.Del(HeaderState)
	}
}

type ctxKey struct{}

// NewContext returns ctx carrying c (for FromContext and LogHandler).
func NewContext(ctx context.Context, c Context) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// FromContext returns the Context NewContext put in ctx.
func FromContext(ctx context.Context) (Context, bool) {
	if ctx == nil {
		return Context{}, false
	}
	c, ok := ctx.Value(ctxKey{}).(Context)
	return c, ok
}

// Transport returns a RoundTripper that sends the trace of each request's
// context (NewContext) on to base (http.DefaultTransport when nil), as
// Inject does; requests without one pass unchanged. Use it for the HTTP
// clients that call out on a request's behalf (IdP, upstreams).
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base}
}

type transport struct{ base http.RoundTripper }

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c, ok := FromContext(req.Context())
	if !ok {
		return t.base.RoundTrip(req)
	}
	// A RoundTripper must not modify the caller's request.
	out := req.Clone(req.Context())
	c.Inject(out.Header)
	return t.base.RoundTrip(out)
}
