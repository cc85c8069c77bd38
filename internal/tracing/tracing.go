// Package tracing records authbff's OpenTelemetry spans through a
// trace.Tracer the host gives (bff.Options.TracerProvider): the client span
// of an outgoing HTTP call (Transport), the span of each session store
// operation (Store) and the attributes both share. It holds no provider
// and sets no global: with tracing off nothing of it is installed.
//
// The attributes follow the OpenTelemetry semantic conventions and
// authbff's rule: never a user, e-mail, subject, token, cookie, session id,
// state, code, nonce or query string. A span's status description is a
// code (an authbff error code, an HTTP status, an error class), never an
// error's message, which may quote a URL or a server's answer.
package tracing

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Name is the instrumentation scope of authbff's tracers.
const Name = "github.com/authbff/authbff"

// Attribute keys: the OpenTelemetry semantic conventions', and authbff.* and
// oauth.grant_type of its own.
const (
	KeyMethod    = attribute.Key("http.request.method")
	KeyStatus    = attribute.Key("http.response.status_code")
	KeyRoute     = attribute.Key("http.route")
	KeyScheme    = attribute.Key("url.scheme")
	KeyPath      = attribute.Key("url.path")
	KeyServer    = attribute.Key("server.address")
	KeyPort      = attribute.Key("server.port")
	KeyErrorType = attribute.Key("error.type")
	KeyDBSystem  = attribute.Key("db.system.name")
	KeyDBOp      = attribute.Key("db.operation.name")
	KeyPeer      = attribute.Key("authbff.peer")       // idp or upstream
	KeyUpstream  = attribute.Key("authbff.upstream")   // a configured upstream's name
	KeyGrantType = attribute.Key("oauth.grant_type")   // refresh_token
	KeyErrorCode = attribute.Key("authbff.error_code") // a nextauth.Code
)

// Propagator is the one propagation authbff speaks: W3C Trace Context.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Method is the request method as the conventions want it: one of the
// standard methods, else "_OTHER" (a client chooses the method: it must not
// grow the span names without bound).
func Method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// Fail marks span failed with code (an error code or class, never a
// message that could carry data).
func Fail(span trace.Span, code string) {
	span.SetAttributes(KeyErrorType.String(code))
	span.SetStatus(codes.Error, code)
}

// ErrorClass names an error for error.type without its message: a timeout,
// a canceled call, a refused or unresolved connection, else "error".
func ErrorClass(err error) string {
	var ne net.Error
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &dns):
		return "dns"
	case errors.As(err, &op):
		return "connection"
	}
	return "error"
}

// serverAttrs are url.scheme, server.address and server.port of a URL's
// scheme and host.
func serverAttrs(scheme, host string) []attribute.KeyValue {
	h, p, err := net.SplitHostPort(host)
	if err != nil {
		h, p = host, ""
	}
	port := 0
	if p != "" {
		port, _ = strconv.Atoi(p)
	} else if scheme == "https" {
		port = 443
	} else if scheme == "http" {
		port = 80
	}
	return []attribute.KeyValue{KeyScheme.String(scheme), KeyServer.String(h), KeyPort.Int(port)}
}
