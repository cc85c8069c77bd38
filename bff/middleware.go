package bff

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/tracectx"
	"github.com/authbff/authbff/internal/tracing"
)

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	id     string           // the request id (X-Request-Id)
	trace  tracectx.Context // the request's W3C trace context
	code   string           // the error code answered, if any (for the server span)
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

// Flush lets streamed (proxied) answers through.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		if s.status == 0 {
			s.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// middleware gives every request an id (X-Request-Id), recovers panics as
// a 500 JSON and logs one line per request (the path only: query strings
// can hold authorization codes).
//
// The id is the request's X-Request-Id only when the peer is a trusted proxy
// (TRUSTED_PROXIES) and the id is printable ASCII of at most 64 bytes;
// otherwise authbff makes its own, so a client cannot choose the id its
// lines are logged and forwarded under, and logs the client's (valid) one
// as client_request_id.
func (b *BFF) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id, clientID := r.Header.Get("X-Request-Id"), ""
		if id == "" || len(id) > 64 || !printableASCII(id) {
			id = b.reqIDs.next()
		} else if !b.trusted.peerTrusted(r) {
			id, clientID = b.reqIDs.next(), id
		}
		w.Header().Set("X-Request-Id", id)
		if b.hsts {
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		sw := b.writers.Get().(*statusWriter)
		*sw = statusWriter{ResponseWriter: w, id: id, trace: tracectx.FromHeader(r.Header)}
		var span trace.Span // the server span; nil with tracing off (tracing.go)
		if b.tracer != nil {
			r, span = b.startServerSpan(r, sw)
		}
		defer func() {
			// Handlers are done with sw (ReverseProxy included) when
			// ServeHTTP returns; recycle it.
			defer func() { *sw = statusWriter{}; b.writers.Put(sw) }()
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					if span != nil {
						tracing.Fail(span, "aborted") // the handler gave up the connection
						span.End()
					}
					panic(v)
				}
				b.log.Error("panic while serving a request", "panic", v, "path", r.URL.Path, "request_id", id,
					tracectx.LogKey, sw.trace.TraceID.String())
				if sw.status == 0 {
					writeCode(sw, nextauth.CodeInternal)
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			if span != nil {
				endServerSpan(span, status, sw.code)
			}
			level := slog.LevelDebug
			if status >= 500 {
				level = slog.LevelWarn
			}
			if b.log.Enabled(r.Context(), level) {
				attrs := []any{"request_id", id, tracectx.LogKey, sw.trace.TraceID.String(),
					"method", r.Method, "path", r.URL.Path, "status", status, "duration_ms", time.Since(start).Milliseconds()}
				if clientID != "" {
					attrs = append(attrs, "client_request_id", clientID)
				}
				b.log.Log(r.Context(), level, "request", attrs...)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// reqLog returns the request-scoped logger (made on use: most requests log
// nothing).
func (b *BFF) reqLog(w http.ResponseWriter, r *http.Request) *slog.Logger {
	tid := traceOf(w, r).TraceID.String()
	if id := w.Header().Get("X-Request-Id"); id != "" {
		return b.log.With("request_id", id, tracectx.LogKey, tid)
	}
	return b.log.With(tracectx.LogKey, tid)
}

// traceOf is the request's trace context: the one the middleware took (or
// started), else (a handler behind Require on another router) the
// request's own traceparent.
func traceOf(w http.ResponseWriter, r *http.Request) tracectx.Context {
	if sw, ok := w.(*statusWriter); ok {
		return sw.trace
	}
	if tc, ok := tracectx.FromContext(r.Context()); ok {
		return tc
	}
	return tracectx.FromHeader(r.Header)
}

// requestIDs makes request ids: a random per-process prefix and a counter
// (unique, cheap, and not guessable across restarts).
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &requestIDs{prefix: hex.EncodeToString(b[:])}
}

func (r *requestIDs) next() string {
	return r.prefix + "-" + strconv.FormatUint(r.n.Add(1), 36)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
