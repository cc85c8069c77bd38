package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/metrics"
	"github.com/authbff/authbff/internal/session/memstore"
)

// The acceptance: one sign-in and one proxied call show up in the
// exposition, read back with the client library's parser.
func TestExpositionAfterOneSignInAndOneProxyCall(t *testing.T) {
	m := metrics.New()
	base := serve(t, m, nil)
	m.SignIn("cognito", metrics.ResultOK)
	m.Proxy("demo", http.StatusOK, 12*time.Millisecond)

	f := scrape(t, base)
	f.want(t, 1, "authbff_signins_total", "provider", "cognito", "result", "ok")
	f.want(t, 0, "authbff_signins_total", "provider", "cognito", "result", "OAuthCallback")
	f.want(t, 1, "authbff_proxy_requests_total", "upstream", "demo", "code", "200")
	f.want(t, 1, "authbff_proxy_duration_seconds", "upstream", "demo")
	if s := f["authbff_proxy_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleSum(); s < 0.011 || s > 0.013 {
		t.Errorf("proxy duration sum %v; want 0.012", s)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes",
		"process_cpu_seconds_total", "go_build_info", "promhttp_metric_handler_requests_total"} {
		if f[name] == nil {
			t.Errorf("standard metric %s missing", name)
		}
	}
	if _, ok := f["authbff_sessions_active"]; ok {
		t.Error("authbff_sessions_active present without a store that can count")
	}
}

func TestRecordingMethods(t *testing.T) {
	m := metrics.New()
	m.SignIn("cognito", metrics.ResultOK)
	m.SignIn("cognito", auth.ErrOAuthCallback)
	m.SignIn("cognito", auth.ErrOAuthCallback)
	m.SignIn("okta", auth.ErrAccessDenied)
	m.SignIn("okta", "SomethingNew")
	m.SignOut("cognito")
	m.SessionRead(metrics.ReadOK)
	m.SessionRead(metrics.ReadOK)
	m.SessionRead(metrics.ReadNone)
	m.SessionRead(metrics.ReadUnavailable)
	m.SessionRead("bogus")
	m.Refresh("cognito", metrics.RefreshOK, 100*time.Millisecond)
	m.Refresh("cognito", metrics.RefreshTransient, time.Second)
	m.Refresh("cognito", metrics.RefreshFatal, time.Second)
	m.Refresh("cognito", "weird", time.Second)
	m.Proxy("demo", 502, time.Millisecond)
	m.Proxy("demo", 502, time.Millisecond)
	m.Proxy("demo", 0, time.Millisecond)
	m.Proxy("demo", 1000, time.Millisecond)
	m.Backchannel("cognito", metrics.BackchannelOK)
	m.Backchannel("cognito", metrics.BackchannelReplayed)
	m.Backchannel("cognito", "nope")

	f := gather(t, m)
	f.want(t, 1, "authbff_signins_total", "provider", "cognito", "result", "ok")
	f.want(t, 2, "authbff_signins_total", "provider", "cognito", "result", "OAuthCallback")
	f.want(t, 1, "authbff_signins_total", "provider", "okta", "result", "AccessDenied")
	f.want(t, 1, "authbff_signins_total", "provider", "okta", "result", "other")
	f.want(t, 1, "authbff_signouts_total", "provider", "cognito")
	f.want(t, 2, "authbff_session_reads_total", "result", "ok")
	f.want(t, 1, "authbff_session_reads_total", "result", "none")
	f.want(t, 1, "authbff_session_reads_total", "result", "unavailable")
	f.want(t, 1, "authbff_session_reads_total", "result", "other")
	f.want(t, 1, "authbff_refreshes_total", "provider", "cognito", "result", "ok")
	f.want(t, 1, "authbff_refreshes_total", "provider", "cognito", "result", "transient")
	f.want(t, 1, "authbff_refreshes_total", "provider", "cognito", "result", "fatal")
	f.want(t, 1, "authbff_refreshes_total", "provider", "cognito", "result", "other")
	f.want(t, 4, "authbff_refresh_duration_seconds", "provider", "cognito")
	f.want(t, 2, "authbff_proxy_requests_total", "upstream", "demo", "code", "502")
	f.want(t, 2, "authbff_proxy_requests_total", "upstream", "demo", "code", "other")
	f.want(t, 4, "authbff_proxy_duration_seconds", "upstream", "demo")
	f.want(t, 1, "authbff_backchannel_logouts_total", "provider", "cognito", "result", "ok")
	f.want(t, 1, "authbff_backchannel_logouts_total", "provider", "cognito", "result", "replayed")
	f.want(t, 0, "authbff_backchannel_logouts_total", "provider", "cognito", "result", "invalid")
	f.want(t, 1, "authbff_backchannel_logouts_total", "provider", "cognito", "result", "other")
}

// Every contract error code internal/auth defines has its own series.
func TestSignInResultsCoverTheContractCodes(t *testing.T) {
	m := metrics.New()
	codes := []string{auth.ErrConfiguration, auth.ErrAccessDenied, auth.ErrVerification, auth.ErrOAuthSignin,
		auth.ErrOAuthCallback, auth.ErrCallback, auth.ErrSessionRequired, auth.ErrDefault, auth.ErrMissingCSRF}
	for _, c := range codes {
		m.SignIn("cognito", c)
	}
	f := gather(t, m)
	for _, c := range codes {
		f.want(t, 1, "authbff_signins_total", "provider", "cognito", "result", c)
	}
	f.want(t, 0, "authbff_signins_total", "provider", "cognito", "result", "unavailable")
	if _, ok := f.value("authbff_signins_total", "provider", "cognito", "result", "other"); ok {
		t.Error("a contract code was counted as other")
	}
}

// No label value comes from outside its fixed set, except the provider and
// upstream names passed in, and those only when they are short identifiers
// from a bounded set.
func TestLabelCardinality(t *testing.T) {
	m := metrics.New()
	hostile := []string{"/api/proxy/demo/users/42", "https://idp.example.com/x", "alice@example.com",
		strings.Repeat("a", 65), "", "a b", "sess\x00ion", "\xff\xfe"}
	for _, h := range hostile {
		m.SignIn(h, h)
		m.SignOut(h)
		m.SessionRead(h)
		m.Refresh(h, h, time.Millisecond)
		m.Proxy(h, 200, time.Millisecond)
		m.Backchannel(h, h)
	}
	var many []string
	for i := range 40 {
		many = append(many, "p"+strconv.Itoa(i))
	}
	for _, p := range many {
		m.SignIn(p, metrics.ResultOK)
		m.Proxy(p, 200, time.Millisecond)
	}
	s := memstore.New(memstore.Options{CleanupInterval: -1})
	t.Cleanup(func() { s.Close() })
	st := metrics.InstrumentStore(s, "memory", m)
	_, _ = st.Get(t.Context(), "id")
	_ = metrics.InstrumentStore(s, "/var/lib/x.db", m).Ping(t.Context())

	names := map[string]bool{"other": true}
	for _, p := range many[:32] {
		names[p] = true
	}
	results := set("ok", "other", "none", "unavailable", "fatal", "transient", "invalid", "replayed",
		"Configuration", "AccessDenied", "Verification", "OAuthSignin", "OAuthCallback", "Callback",
		"SessionRequired", "Default", "MissingCSRF")
	ops := set("get", "create", "update", "delete", "list_by_user", "list_by_sid", "mark_used", "unmark_used", "ping", "lock", "wait_unlocked", "count")
	stores := set("memory", "other")
	providersSeen := map[string]bool{}
	for name, fam := range gather(t, m) {
		if !strings.HasPrefix(name, "authbff_") {
			continue
		}
		for _, mt := range fam.GetMetric() {
			for _, lp := range mt.GetLabel() {
				v := lp.GetValue()
				var ok bool
				switch lp.GetName() {
				case "provider", "upstream":
					ok = names[v]
					providersSeen[v] = true
				case "result":
					ok = results[v]
				case "code":
					n, err := strconv.Atoi(v)
					ok = v == "other" || err == nil && n >= 100 && n <= 599
				case "op":
					ok = ops[v]
				case "store":
					ok = stores[v]
				case "le":
					ok = true
				}
				if !ok {
					t.Errorf("%s: label %s=%q outside its set", name, lp.GetName(), v)
				}
			}
		}
	}
	if len(providersSeen) != 33 {
		t.Errorf("%d provider/upstream names have series; want 32 plus other", len(providersSeen))
	}
}

func TestDeclare(t *testing.T) {
	m := metrics.New()
	m.DeclareProviders("cognito", "okta", "bad name")
	m.DeclareUpstreams("demo")
	f := gather(t, m)
	// Declared names have their series at zero from the start.
	f.want(t, 0, "authbff_signins_total", "provider", "okta", "result", "ok")
	f.want(t, 0, "authbff_signins_total", "provider", "cognito", "result", "OAuthCallback")
	f.want(t, 0, "authbff_refreshes_total", "provider", "okta", "result", "transient")
	f.want(t, 0, "authbff_proxy_duration_seconds", "upstream", "demo")

	m.SignIn("github", metrics.ResultOK) // not declared
	m.Proxy("other-api", 200, time.Millisecond)
	m.SignIn("okta", metrics.ResultOK)
	f = gather(t, m)
	f.want(t, 1, "authbff_signins_total", "provider", "other", "result", "ok")
	f.want(t, 1, "authbff_signins_total", "provider", "okta", "result", "ok")
	f.want(t, 1, "authbff_proxy_requests_total", "upstream", "other", "code", "200")
	if _, ok := f.value("authbff_signins_total", "provider", "github", "result", "ok"); ok {
		t.Error("an undeclared provider got its own series")
	}
	if _, ok := f.value("authbff_signins_total", "provider", "bad name", "result", "ok"); ok {
		t.Error("an invalid declared name got a series")
	}
}

func TestNilMetricsIsANoOp(t *testing.T) {
	var m *metrics.Metrics
	m.SignIn("cognito", "ok")
	m.SignOut("cognito")
	m.SessionRead(metrics.ReadOK)
	m.Refresh("cognito", metrics.RefreshOK, time.Second)
	m.Proxy("demo", 200, time.Second)
	m.Backchannel("cognito", metrics.BackchannelOK)
	m.DeclareProviders("cognito")
	m.DeclareUpstreams("demo")
	if m.Registry() != nil {
		t.Error("nil Metrics has a registry")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Metrics handler: status %d; want 404", rec.Code)
	}
	s := memstore.New(memstore.Options{CleanupInterval: -1})
	defer s.Close()
	if got := metrics.InstrumentStore(s, "memory", m); got != s {
		t.Error("InstrumentStore with nil Metrics wrapped the store")
	}
}

// New touches no process-wide state: two instances coexist, and nothing
// lands on the default registry.
func TestNoGlobalRegistration(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.SignIn("cognito", metrics.ResultOK)
	gather(t, a).want(t, 1, "authbff_signins_total", "provider", "cognito", "result", "ok")
	gather(t, b).want(t, 0, "authbff_session_reads_total", "result", "ok")
	if _, ok := gather(t, b).value("authbff_signins_total", "provider", "cognito", "result", "ok"); ok {
		t.Error("instances share series")
	}
	def, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range def {
		if strings.HasPrefix(f.GetName(), "authbff_") {
			t.Errorf("%s registered on the default registry", f.GetName())
		}
	}
}

// The hot paths allocate nothing once their series exist.
func TestHotPathsDoNotAllocate(t *testing.T) {
	m := metrics.New()
	m.SessionRead(metrics.ReadOK)
	m.Proxy("demo", 200, time.Millisecond)
	m.Refresh("cognito", metrics.RefreshOK, time.Millisecond)
	for name, fn := range map[string]func(){
		"SessionRead": func() { m.SessionRead(metrics.ReadOK) },
		"Proxy":       func() { m.Proxy("demo", 200, time.Millisecond) },
		"SignIn":      func() { m.SignIn("cognito", metrics.ResultOK) },
		"Refresh":     func() { m.Refresh("cognito", metrics.RefreshOK, time.Millisecond) },
	} {
		if n := testing.AllocsPerRun(1000, fn); n != 0 {
			t.Errorf("%s allocates %v times per call", name, n)
		}
	}
}

func set(vs ...string) map[string]bool {
	out := map[string]bool{}
	for _, v := range vs {
		out[v] = true
	}
	return out
}
