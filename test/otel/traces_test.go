package oteltest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/authbff/authbff/internal/testkit"
)

// span is one received span, flattened: its resource's and its own
// attributes as text.
type span struct {
	TraceID, SpanID, ParentID string
	Name, Kind, StatusCode    string
	StatusMessage             string
	Attrs, Resource           map[string]string
	Events                    []string
}

// text is everything a span says, for the leak checks.
func (s span) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", s.Name, s.StatusMessage, strings.Join(s.Events, " "))
	for k, v := range s.Attrs {
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	for k, v := range s.Resource {
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	return b.String()
}

func attrMap(m pcommon.Map) map[string]string {
	out := map[string]string{}
	m.Range(func(k string, v pcommon.Value) bool {
		out[k] = v.AsString()
		return true
	})
	return out
}

func flatten(all []ptrace.Traces) []span {
	var out []span
	for _, td := range all {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			res := attrMap(rs.Resource().Attributes())
			for j := 0; j < rs.ScopeSpans().Len(); j++ {
				ss := rs.ScopeSpans().At(j).Spans()
				for k := 0; k < ss.Len(); k++ {
					sp := ss.At(k)
					s := span{
						TraceID: sp.TraceID().String(), SpanID: sp.SpanID().String(), ParentID: sp.ParentSpanID().String(),
						Name: sp.Name(), Kind: sp.Kind().String(), StatusCode: sp.Status().Code().String(),
						StatusMessage: sp.Status().Message(), Attrs: attrMap(sp.Attributes()), Resource: res,
					}
					for e := 0; e < sp.Events().Len(); e++ {
						ev := sp.Events().At(e)
						s.Events = append(s.Events, ev.Name()+" "+fmt.Sprint(attrMap(ev.Attributes())))
					}
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// freeAddr returns a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startReceiver runs the Collector's OTLP receiver (HTTP and gRPC) into a
// sink until the test ends.
func startReceiver(t *testing.T) (httpAddr, grpcAddr string, sink *consumertest.TracesSink) {
	t.Helper()
	f := otlpreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*otlpreceiver.Config)
	httpAddr, grpcAddr = freeAddr(t), freeAddr(t)
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = httpAddr
	cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = grpcAddr
	sink = new(consumertest.TracesSink)
	r, err := f.CreateTraces(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return httpAddr, grpcAddr, sink
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the binary built for the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// authbffBin builds cmd/authbff once per test run.
func authbffBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "authbff-otel-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "authbff")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/authbff")
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/authbff: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// upstream records the traceparent and Authorization of each call.
type upstream struct {
	mu   sync.Mutex
	tps  []string
	auth []string
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.tps = append(u.tps, r.Header.Get("Traceparent"))
	u.auth = append(u.auth, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`)
}

// runAuthbff starts the binary with env (on top of a clean environment)
// and waits until it answers /healthz. stop sends SIGTERM and waits for the
// exit; the JSON log lines are returned.
func runAuthbff(t *testing.T, env []string) (base string, stop func() []string) {
	t.Helper()
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	base = "http://127.0.0.1:" + port
	cmd := exec.Command(authbffBin(t))
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PORT=" + port, "HOST=127.0.0.1",
		"NEXTAUTH_URL=" + base, "SESSION_STORE=memory", "AUTHBFF_DATA_DIR=" + t.TempDir(), "METRICS_ADDR=",
		"SHUTDOWN_DRAIN_DELAY=0s", "LOG_FORMAT=json", "LOG_LEVEL=debug", "OTEL_BSP_SCHEDULE_DELAY=100"}, env...)
	cmd.Dir = t.TempDir() // no dotenv files
	var stderr bytes.Buffer
	var mu sync.Mutex
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return stderr.Write(p) })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	logs := func() string { mu.Lock(); defer mu.Unlock(); return stderr.String() }
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("authbff exited: %v\n%s", err, logs())
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("authbff did not answer /healthz:\n%s", logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var once sync.Once
	var lines []string
	stop = func() []string {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("authbff exit: %v\n%s", err, logs())
				}
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Errorf("authbff did not exit on SIGTERM:\n%s", logs())
			}
			sc := bufio.NewScanner(strings.NewReader(logs()))
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
		})
		return lines
	}
	t.Cleanup(func() { stop() })
	return base, stop
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestTracesReachAnOTLPReceiver(t *testing.T) {
	httpAddr, grpcAddr, sink := startReceiver(t)
	for _, tc := range []struct{ name, endpoint, protocol string }{
		{"http/protobuf", "http://" + httpAddr, ""}, // the specification's default
		{"grpc", "http://" + grpcAddr, "grpc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink.Reset()
			up := &upstream{}
			ups := httptest.NewServer(up)
			defer ups.Close()
			env := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + tc.endpoint, "UPSTREAM_REC=" + ups.URL + "/base",
				"OTEL_SERVICE_NAME=authbff-under-test", "OTEL_RESOURCE_ATTRIBUTES=deployment.environment.name=ci"}
			if tc.protocol != "" {
				env = append(env, "OTEL_EXPORTER_OTLP_PROTOCOL="+tc.protocol)
			}
			base, stop := runAuthbff(t, env)
			checkTraces(t, base, up, sink, stop)
		})
	}
}

func checkTraces(t *testing.T, base string, up *upstream, sink *consumertest.TracesSink, stop func() []string) {
	b := testkit.NewBrowser(t)
	// One sign-in, step by step, keeping what must never be in a span.
	authURL := b.StartSignIn(base, "cognito", base+"/protected")
	au, _ := url.Parse(authURL)
	state, nonce := au.Query().Get("state"), au.Query().Get("nonce")
	toCallback := testkit.Location(t, b.DevLogin(b.Get(authURL), "ada"))
	code := testkit.MustQuery(t, toCallback).Get("code")
	if done := b.Get(toCallback); testkit.Location(t, done) != base+"/protected" {
		t.Fatalf("callback: %d %s", done.StatusCode, done.Body)
	}
	// One proxied call, to a path holding the user's e-mail (as
	// /users/{email} APIs do): no span may record it.
	_, email := b.SessionUser(base)
	r := b.ProxyGet(base + "/api/proxy/rec/users/" + email + "/items?filter=private-query")
	if r.StatusCode != 200 {
		t.Fatalf("proxied call: %d %s", r.StatusCode, r.Body)
	}
	cookie := b.SessionCookie(base)
	logs := stop() // SIGTERM: the drain, then the last spans are flushed

	spans := flatten(sink.AllTraces())
	if len(spans) == 0 {
		t.Fatal("the receiver got no span")
	}
	for _, s := range spans {
		if s.Resource["service.name"] != "authbff-under-test" || s.Resource["deployment.environment.name"] != "ci" {
			t.Fatalf("resource of span %q: %v", s.Name, s.Resource)
		}
	}
	byName := func(name, trace string) []span {
		var out []span
		for _, s := range spans {
			if s.Name == name && (trace == "" || s.TraceID == trace) {
				out = append(out, s)
			}
		}
		return out
	}
	// One trace per request: every request's root (a server span without
	// parent) starts a trace of its own.
	roots := map[string]string{}
	for _, s := range spans {
		if s.Kind == "Server" && s.ParentID == "" {
			if other, dup := roots[s.TraceID]; dup {
				t.Errorf("requests %q and %q share trace %s", other, s.Name, s.TraceID)
			}
			roots[s.TraceID] = s.Name
		}
	}
	cb := byName("GET /api/auth/callback/:provider", "")
	if len(cb) != 1 || cb[0].Kind != "Server" || cb[0].Attrs["http.route"] != "/api/auth/callback/:provider" ||
		cb[0].Attrs["http.request.method"] != "GET" || cb[0].Attrs["http.response.status_code"] != "302" {
		t.Fatalf("callback server span: %+v", cb)
	}
	tid := cb[0].TraceID
	step := byName("callback", tid)
	if len(step) != 1 || step[0].ParentID != cb[0].SpanID {
		t.Fatalf("callback span: %+v", step)
	}
	var token *span
	for _, s := range byName("POST", tid) {
		if s.Kind == "Client" && s.ParentID == step[0].SpanID && strings.HasSuffix(s.Attrs["url.path"], "/oauth2/token") {
			token = &s
		}
	}
	if token == nil || token.Attrs["http.response.status_code"] != "200" || token.Attrs["server.address"] != "127.0.0.1" ||
		token.Attrs["url.scheme"] != "http" || token.Attrs["server.port"] == "" {
		t.Fatalf("no client span of the token call under the callback: %+v", byName("POST", tid))
	}
	if w := byName("store create", tid); len(w) != 1 || w[0].Attrs["db.system.name"] != "memory" || w[0].Attrs["db.operation.name"] != "create" {
		t.Fatalf("store write span: %+v", w)
	}
	px := byName("GET /api/proxy/:upstream/*", "")
	if len(px) != 1 || px[0].Attrs["http.route"] != "/api/proxy/:upstream/*" || px[0].Attrs["http.response.status_code"] != "200" {
		t.Fatalf("proxied call's server span: %+v", px)
	}
	var client *span
	for _, s := range byName("GET", px[0].TraceID) {
		if s.Kind == "Client" && s.ParentID == px[0].SpanID {
			client = &s
		}
	}
	if client == nil || client.Attrs["url.path"] != "" || client.Attrs["server.address"] != "127.0.0.1" ||
		client.Attrs["http.response.status_code"] != "200" {
		t.Fatalf("proxied call's client span: %+v", byName("GET", px[0].TraceID))
	}
	up.mu.Lock()
	tps, auths := append([]string(nil), up.tps...), append([]string(nil), up.auth...)
	up.mu.Unlock()
	if want := "00-" + px[0].TraceID + "-" + client.SpanID + "-01"; len(tps) != 1 || tps[0] != want {
		t.Fatalf("upstream's traceparent %q, want %q (the proxy's client span as parent)", tps, want)
	}
	// The proxied request's log line names its trace.
	logged := false
	for _, l := range logs {
		var v struct {
			Path    string `json:"path"`
			TraceID string `json:"trace_id"`
		}
		if json.Unmarshal([]byte(l), &v) == nil && v.Path == "/api/proxy/rec/users/"+email+"/items" {
			logged = v.TraceID == px[0].TraceID
		}
	}
	if !logged {
		t.Errorf("no request log line of the proxied call with trace_id %s", px[0].TraceID)
	}

	// Nothing of the user, their tokens, cookie or the flow in any span.
	access := auths[0]
	parts := strings.Split(access, ".")
	if len(parts) != 3 {
		t.Fatalf("upstream's bearer is not a JWT: %q", access)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Sub, Username string
	}
	_ = json.Unmarshal(payload, &claims)
	secrets := map[string]string{"access token": access, "token signature": parts[2], "sub": claims.Sub, "email": email,
		"session cookie": cookie, "state": state, "nonce": nonce, "code": code, "query": "private-query"}
	for name, v := range secrets {
		if len(v) < 6 {
			t.Fatalf("test setup: no %s to look for (%q)", name, v)
		}
	}
	for _, s := range spans {
		text := s.text()
		for name, v := range secrets {
			if strings.Contains(text, v) {
				t.Errorf("span %q holds the %s: %s", s.Name, name, text)
			}
		}
	}
}

// An unreachable OTLP endpoint never takes authbff down, and the SDK's own
// complaints go through the structured log: every stderr line is JSON.
func TestUnreachableEndpointLogsStructured(t *testing.T) {
	dead := freeAddr(t) // nothing listens there
	base, stop := runAuthbff(t, []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + dead, "OTEL_EXPORTER_OTLP_TIMEOUT=300"})
	for range 3 {
		resp, err := http.Get(base + "/api/auth/providers")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /api/auth/providers: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	time.Sleep(time.Second) // a batch is due after 100 ms; its export fails after 300 ms
	logs := stop()
	reported := false
	for _, l := range logs {
		var v map[string]any
		if json.Unmarshal([]byte(l), &v) != nil {
			t.Errorf("unstructured stderr line: %s", l)
			continue
		}
		if msg, _ := v["msg"].(string); strings.HasPrefix(msg, "traces: OpenTelemetry error") {
			reported = true
		}
	}
	if !reported {
		t.Errorf("the failed export was not logged:\n%s", strings.Join(logs, "\n"))
	}
}
