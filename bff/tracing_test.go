package bff_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/tracectx"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tracedApp is the dev-IdP app with a tracer provider recording every span
// in memory (synchronously: a span is there once its request answered),
// its JSON logs in logs, and the upstream rec.
func tracedApp(t *testing.T, set ...func(*bff.Options)) (*testServer, *tracetest.InMemoryExporter, *syncBuffer, *recUpstream) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	up := newRecUpstream(t)
	ln := listen(t, "127.0.0.1:0")
	o, err := envOptions(t, bffEnv(t, "UPSTREAM_REC", up.srv.URL+"/base"), ln)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o.TracerProvider = tp
	for _, f := range set {
		f(&o)
	}
	return newTestServerOn(t, o, ln), exp, logs, up
}

// spanNamed returns the spans named name.
func spansNamed(spans tracetest.SpanStubs, name string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func attr(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

func TestTracingSpansOfSignInAndProxy(t *testing.T) {
	app, exp, logs, up := tracedApp(t)
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	spans := exp.GetSpans()

	// The callback: a server span named by the route template, the callback
	// step, the token call as a client span under it, the session's write.
	cb := spansNamed(spans, "GET /api/auth/callback/:provider")
	if len(cb) != 1 || attr(cb[0], "http.route") != "/api/auth/callback/:provider" || attr(cb[0], "http.response.status_code") != "302" {
		t.Fatalf("callback server spans: %+v", cb)
	}
	tid := cb[0].SpanContext.TraceID()
	inTrace := func(name string) tracetest.SpanStubs {
		var out tracetest.SpanStubs
		for _, s := range spansNamed(spans, name) {
			if s.SpanContext.TraceID() == tid {
				out = append(out, s)
			}
		}
		return out
	}
	step := inTrace("callback")
	if len(step) != 1 || step[0].Parent.SpanID() != cb[0].SpanContext.SpanID() {
		t.Fatalf("callback step span: %+v", step)
	}
	var token tracetest.SpanStub
	for _, s := range inTrace("POST") {
		if strings.HasSuffix(attr(s, "url.path"), "/oauth2/token") && attr(s, "authbff.peer") == "idp" {
			token = s
		}
	}
	if !token.SpanContext.IsValid() || token.SpanKind.String() != "client" || token.Parent.SpanID() != step[0].SpanContext.SpanID() ||
		attr(token, "http.response.status_code") != "200" || attr(token, "server.address") != "127.0.0.1" {
		t.Fatalf("token call span: %+v", token)
	}
	if w := inTrace("store create"); len(w) != 1 || attr(w[0], "db.system.name") != "memory" || attr(w[0], "db.operation.name") != "create" {
		t.Fatalf("store write span: %+v", w)
	}
	if s := spansNamed(spans, "POST /api/auth/signin/:provider"); len(s) != 1 || len(spansNamed(spans, "signin")) != 1 ||
		s[0].SpanContext.TraceID() == tid {
		t.Fatalf("sign-in spans: %+v", s)
	}

	// A proxied call continuing the caller's trace: the server span is a
	// child of the caller's span, the upstream's traceparent names the
	// proxy's client span, and the log line carries the same trace id.
	// The API's path holds the user's e-mail (as /users/{email} APIs do):
	// no span may record it.
	_, email := b.SessionUser(app.URL)
	exp.Reset()
	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	r := b.bffCall("GET", app.URL+"/api/proxy/rec/users/"+email+"/items?q=secret-query", "", "Traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
	if r.StatusCode != 200 {
		t.Fatalf("proxy: %d %s", r.StatusCode, r.Body)
	}
	spans = exp.GetSpans()
	srv := spansNamed(spans, "GET /api/proxy/:upstream/*")
	if len(srv) != 1 || srv[0].SpanContext.TraceID().String() != callerTrace || srv[0].Parent.SpanID().String() != callerSpan ||
		attr(srv[0], "authbff.upstream") != "rec" {
		t.Fatalf("proxy server span: %+v", srv)
	}
	var client tracetest.SpanStub
	for _, s := range spansNamed(spans, "GET") {
		if attr(s, "authbff.peer") == "upstream" {
			client = s
		}
	}
	if client.Parent.SpanID() != srv[0].SpanContext.SpanID() || attr(client, "url.path") != "" ||
		attr(client, "server.address") != "127.0.0.1" || attr(client, "http.response.status_code") != "200" {
		t.Fatalf("proxy client span: %+v", client)
	}
	req, _ := up.last(t)
	p, err := tracectx.Parse(req.Header.Get("Traceparent"))
	if err != nil || p.TraceID.String() != callerTrace || p.SpanID.String() != client.SpanContext.SpanID().String() {
		t.Fatalf("upstream traceparent %q, want trace %s parent %s", req.Header.Get("Traceparent"), callerTrace, client.SpanContext.SpanID())
	}
	if !strings.Contains(logs.String(), `"trace_id":"`+callerTrace+`"`) {
		t.Fatalf("no log line with the caller's trace id:\n%s", logs)
	}

	// Nothing of the user's, nor their tokens or cookie, in any span.
	access := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(access+"..", ".")[1])
	var claims struct{ Sub, Username string }
	_ = json.Unmarshal(payload, &claims)
	if req.URL.Path != "/base/users/"+email+"/items" {
		t.Fatalf("upstream path %q", req.URL.Path)
	}
	secrets := map[string]string{"access token": access, "sub": claims.Sub, "email": email,
		"cookie": b.SessionCookie(app.URL), "query": "secret-query"}
	for name, v := range secrets {
		if v == "" {
			t.Fatalf("test setup: no %s to look for", name)
		}
	}
	newBrowser(t).SignInAs(app.URL, "ada") // a second sign-in's spans are searched too
	for _, s := range append(spans, exp.GetSpans()...) {
		text := s.Name + " " + s.Status.Description
		for _, a := range s.Attributes {
			text += " " + string(a.Key) + "=" + a.Value.Emit()
		}
		for _, e := range s.Events {
			text += " " + e.Name
		}
		for name, v := range secrets {
			if strings.Contains(text, v) {
				t.Errorf("span %q holds the %s: %s", s.Name, name, text)
			}
		}
	}
}

func TestTracingErrorCodeOnSpan(t *testing.T) {
	app, exp, _, _ := tracedApp(t)
	b := newBrowser(t)
	r := b.bffCall("GET", app.URL+"/api/proxy/rec/x", "")
	wantJSONError(t, r, http.StatusUnauthorized, "unauthenticated")
	srv := spansNamed(exp.GetSpans(), "GET /api/proxy/:upstream/*")
	if len(srv) != 1 || attr(srv[0], "authbff.error_code") != "unauthenticated" || attr(srv[0], "http.response.status_code") != "401" {
		t.Fatalf("server span of a refused call: %+v", srv)
	}
}

// With no provider the ids still flow: the upstream continues the caller's
// trace and the log carries its id.
func TestTracingOffKeepsTraceIDs(t *testing.T) {
	up := newRecUpstream(t)
	app := startApp(t, bffEnv(t, "UPSTREAM_REC", up.srv.URL))
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	b.bffCall("GET", app.URL+"/api/proxy/rec/x", "", "Traceparent", "00-"+callerTrace+"-00f067aa0ba902b7-01")
	req, _ := up.last(t)
	if p, err := tracectx.Parse(req.Header.Get("Traceparent")); err != nil || p.TraceID.String() != callerTrace {
		t.Fatalf("upstream traceparent %q", req.Header.Get("Traceparent"))
	}
}

// A refresh is a span of its own, naming the grant, with the IdP's token
// call under it, inside the proxied request's trace.
func TestTracingRefreshSpan(t *testing.T) {
	// A margin longer than the dev IdP's access tokens live: every use refreshes.
	app, exp, _, _ := tracedApp(t, func(o *bff.Options) { o.RefreshMargin = 48 * time.Hour })
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	exp.Reset()
	if r := b.bffCall("GET", app.URL+"/api/proxy/rec/x", ""); r.StatusCode != 200 {
		t.Fatalf("proxy: %d %s", r.StatusCode, r.Body)
	}
	spans := exp.GetSpans()
	srv := spansNamed(spans, "GET /api/proxy/:upstream/*")
	ref := spansNamed(spans, "refresh")
	if len(srv) != 1 || len(ref) != 1 || ref[0].SpanContext.TraceID() != srv[0].SpanContext.TraceID() ||
		attr(ref[0], "oauth.grant_type") != "refresh_token" || ref[0].Status.Code.String() == "Error" {
		t.Fatalf("refresh span %+v in %+v", ref, srv)
	}
	var token bool
	for _, s := range spansNamed(spans, "POST") {
		token = token || s.Parent.SpanID() == ref[0].SpanContext.SpanID() && strings.HasSuffix(attr(s, "url.path"), "/oauth2/token")
	}
	if !token {
		t.Fatal("no token call under the refresh span")
	}
}

// A provider that records nothing (OpenTelemetry's no-op one) leaves the
// ids as tracing off does: the upstream continues the caller's trace.
func TestTracingNoopProviderKeepsTraceIDs(t *testing.T) {
	app, _, logs, up := tracedApp(t, func(o *bff.Options) { o.TracerProvider = noop.NewTracerProvider() })
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	b.bffCall("GET", app.URL+"/api/proxy/rec/x", "", "Traceparent", "00-"+callerTrace+"-00f067aa0ba902b7-01")
	req, _ := up.last(t)
	p, err := tracectx.Parse(req.Header.Get("Traceparent"))
	if err != nil || p.TraceID.String() != callerTrace || p.SpanID.String() == "00f067aa0ba902b7" {
		t.Fatalf("upstream traceparent %q: want the caller's trace under authbff's own span", req.Header.Get("Traceparent"))
	}
	if !strings.Contains(logs.String(), `"trace_id":"`+callerTrace+`"`) {
		t.Fatalf("no log line with the caller's trace id:\n%s", logs)
	}
}

// A host handler's own upstream calls (Session.Client) are client spans
// too, whose id the upstream receives as the parent.
func TestTracingSessionClient(t *testing.T) {
	app, exp, _, up := tracedApp(t)
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	exp.Reset()
	h := app.BFF.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := bff.SessionFrom(r.Context())
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, up.srv.URL+"/host-call", nil)
		resp, err := s.Client("rec").Do(req)
		if err != nil {
			t.Errorf("host call: %v", err)
			return
		}
		resp.Body.Close()
	}))
	req := httptest.NewRequest(http.MethodGet, app.URL+"/host", nil)
	for _, c := range b.Client.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	req.Header.Set("X-CSRF", "1")
	req.Header.Set("Origin", app.URL)
	h.ServeHTTP(httptest.NewRecorder(), req)
	got, _ := up.last(t)
	var client tracetest.SpanStub
	for _, s := range spansNamed(exp.GetSpans(), "GET") {
		if attr(s, "authbff.peer") == "upstream" {
			client = s
		}
	}
	p, err := tracectx.Parse(got.Header.Get("Traceparent"))
	if !client.SpanContext.IsValid() || err != nil || p.SpanID.String() != client.SpanContext.SpanID().String() {
		t.Fatalf("upstream traceparent %q, client span %+v", got.Header.Get("Traceparent"), client)
	}
}
