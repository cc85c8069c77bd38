package api

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/authbff/authbff/internal/session"
)

// scrape fetches /metrics from the app's METRICS_ADDR and parses it with
// the Prometheus client library's parser.
func scrape(t *testing.T, app *testApp) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	addr := app.Main.MetricsAddr()
	if addr == "" {
		t.Fatal("no metrics listener")
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return fams, string(raw)
}

// value returns the counter/gauge value of the series of name with exactly
// the given labels, or -1.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// TestMetricsAfterAJourney: after one sign-in through the dev IdP and one
// proxied call, /metrics on METRICS_ADDR (never the public port) counts
// them, and no series or label holds a token, cookie or session id.
func TestMetricsAfterAJourney(t *testing.T) {
	app := startApp(t, map[string]string{"SESSION_STORE": "memory"})
	if r := newBrowser(t).Get(app.URL + "/metrics"); r.StatusCode == 200 && strings.Contains(r.Body, "authbff_") {
		t.Fatal("metrics are served on the public port")
	}
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	if r := b.ProxyGet(app.URL + "/api/proxy/demo/me"); r.StatusCode != 200 {
		t.Fatalf("proxied call: %d %s", r.StatusCode, r.Body)
	}
	fams, raw := scrape(t, app)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"authbff_signins_total", map[string]string{"provider": "cognito", "result": "ok"}, 1},
		{"authbff_proxy_requests_total", map[string]string{"upstream": "demo", "code": "200"}, 1},
		{"authbff_sessions_active", nil, 1},
	} {
		if got := value(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if value(fams, "authbff_session_reads_total", map[string]string{"result": "ok"}) < 1 {
		t.Error("no ok session read counted")
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "authbff_store_operation_duration_seconds", "authbff_session_cache_hits_total", "authbff_session_cache_misses_total"} {
		if fams[name] == nil {
			t.Errorf("%s missing", name)
		}
	}

	// Nothing secret in any series or label: the cookie token, the record
	// id (and its public prefix), the OAuth tokens, the CSRF cookie.
	token := b.SessionCookie(app.URL)
	s, err := core(app.Main).Sessions().Load(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"session cookie": token, "session id": session.IDFromToken(token), "session id prefix": s.ID[:16],
		"access token": s.Data.Tokens.AccessToken, "refresh token": s.Data.Tokens.RefreshToken,
		"id token": s.Data.Tokens.IDToken, "sub": s.Data.Subject, "email": s.Data.User.Email,
		"csrf": b.CSRF(app.URL), "hex of the cookie": hex.EncodeToString([]byte(token))[:24],
	}
	for what, v := range secrets {
		if v == "" {
			t.Fatalf("%s is empty: the test would prove nothing", what)
		}
		if strings.Contains(raw, v) {
			t.Errorf("the metrics hold the %s", what)
		}
	}
	if strings.Contains(raw, "/api/proxy") || strings.Contains(raw, "/me\"") {
		t.Error("a URL path is a label value")
	}
}
