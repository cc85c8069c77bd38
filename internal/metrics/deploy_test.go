package metrics_test

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/authbff/authbff/internal/metrics"
	"github.com/authbff/authbff/internal/session/memstore"
)

// The operations files (deploy/, docker-compose.yml) parse, and every metric
// their queries use is one this package exports.

const repoRoot = "../.."

var metricName = regexp.MustCompile(`\b(?:authbff|go|process)_[a-z_]+\b`)

// exported is every metric name a fully wired Metrics exposes, with the
// histogram series suffixes.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	m := metrics.New()
	ms := memstore.New(memstore.Options{CleanupInterval: -1})
	t.Cleanup(func() { ms.Close() })
	_ = metrics.InstrumentStore(ms, "memory", m)
	m.DeclareProviders("cognito")
	m.Proxy("demo", 200, 0)
	out := map[string]bool{}
	for name, f := range gather(t, m) {
		out[name] = true
		if f.GetType().String() == "HISTOGRAM" {
			out[name+"_bucket"], out[name+"_sum"], out[name+"_count"] = true, true, true
		}
	}
	return out
}

// checkExpr fails on an unknown metric or unbalanced brackets in a query.
func checkExpr(t *testing.T, where, expr string, known map[string]bool) {
	t.Helper()
	names := metricName.FindAllString(expr, -1)
	if len(names) == 0 {
		t.Errorf("%s: query uses no metric: %q", where, expr)
	}
	for _, n := range names {
		if !known[n] {
			t.Errorf("%s: query uses %s, which is not exported", where, n)
		}
	}
	for _, pair := range []string{"()", "{}", "[]"} {
		if strings.Count(expr, pair[:1]) != strings.Count(expr, pair[1:]) {
			t.Errorf("%s: unbalanced %s in %q", where, pair, expr)
		}
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestAlertRules(t *testing.T) {
	var f struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert       string
				Expr        string
				For         string
				Labels      map[string]string
				Annotations map[string]string
			}
		}
	}
	readYAML(t, "deploy/prometheus/alerts.yml", &f)
	known := exported(t)
	var alerts []string
	for _, g := range f.Groups {
		if g.Name == "" {
			t.Error("rule group without a name")
		}
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			checkExpr(t, r.Alert, r.Expr, known)
			if sev := r.Labels["severity"]; sev != "warning" && sev != "critical" {
				t.Errorf("%s: severity %q", r.Alert, sev)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" || r.For == "" {
				t.Errorf("%s: needs for, summary and description", r.Alert)
			}
		}
	}
	slices.Sort(alerts)
	want := []string{"AuthbffRefreshFailures", "AuthbffSignInFailureRatioHigh", "AuthbffStoreErrors"}
	if !slices.Equal(alerts, want) {
		t.Errorf("alerts %v; want %v", alerts, want)
	}
}

type composeFile struct {
	Services map[string]struct {
		Image       string
		Profiles    []string
		Ports       []string
		Volumes     []string
		Environment map[string]string
	}
}

// Prometheus scrapes both compose instances on the port their METRICS_ADDR
// names, and loads the alert rules; the metrics port is never published.
func TestPrometheusConfigMatchesCompose(t *testing.T) {
	var p struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			MetricsPath   string `yaml:"metrics_path"`
			StaticConfigs []struct {
				Targets []string
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, "deploy/prometheus/prometheus.yml", &p)
	for _, rf := range p.RuleFiles {
		if _, err := os.Stat(filepath.Join(repoRoot, "deploy/prometheus", rf)); err != nil {
			t.Errorf("rule file %s: %v", rf, err)
		}
	}
	if !slices.Contains(p.RuleFiles, "alerts.yml") {
		t.Errorf("rule_files %v does not load alerts.yml", p.RuleFiles)
	}
	var c composeFile
	readYAML(t, "docker-compose.yml", &c)
	var targets []string
	for _, sc := range p.ScrapeConfigs {
		if sc.JobName != "authbff" || sc.MetricsPath != "/metrics" {
			t.Errorf("scrape config %s %s; want job authbff on /metrics (the dashboard filters job=\"authbff\")", sc.JobName, sc.MetricsPath)
		}
		for _, s := range sc.StaticConfigs {
			targets = append(targets, s.Targets...)
		}
	}
	for _, svc := range []string{"authbff-a", "authbff-b"} {
		s, ok := c.Services[svc]
		if !ok {
			t.Fatalf("compose has no service %s", svc)
		}
		_, port, err := net.SplitHostPort(s.Environment["METRICS_ADDR"])
		if err != nil {
			t.Fatalf("%s: METRICS_ADDR %q: %v", svc, s.Environment["METRICS_ADDR"], err)
		}
		if !slices.Contains(targets, svc+":"+port) {
			t.Errorf("prometheus targets %v do not scrape %s:%s", targets, svc, port)
		}
		for _, pub := range s.Ports {
			if strings.Contains(pub, port) {
				t.Errorf("%s publishes the metrics port: %q", svc, pub)
			}
		}
	}
	prom, ok := c.Services["prometheus"]
	if !ok {
		t.Fatal("compose has no prometheus service")
	}
	if !slices.Equal(prom.Profiles, []string{"metrics"}) {
		t.Errorf("prometheus profiles %v; want [metrics] (optional)", prom.Profiles)
	}
	if !slices.Contains(prom.Volumes, "./deploy/prometheus:/etc/prometheus:ro") {
		t.Errorf("prometheus volumes %v do not mount deploy/prometheus", prom.Volumes)
	}
	for _, pub := range prom.Ports {
		if !strings.HasPrefix(pub, "127.0.0.1:") {
			t.Errorf("prometheus port %q published beyond loopback", pub)
		}
	}
}

func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "deploy/grafana/authbff-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string
		Title  string
		Panels []struct {
			Title      string
			Type       string
			Datasource struct{ UID string }
			Targets    []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	if d.UID == "" || d.Title == "" {
		t.Error("dashboard needs a uid and a title")
	}
	known := exported(t)
	queries := 0
	used := map[string]bool{}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %q, %d queries", p.Title, p.Datasource.UID, len(p.Targets))
		}
		for _, q := range p.Targets {
			queries++
			checkExpr(t, "panel "+p.Title, q.Expr, known)
			for _, n := range metricName.FindAllString(q.Expr, -1) {
				used[strings.TrimSuffix(n, "_bucket")] = true
			}
		}
	}
	// Every authbff metric of the contract is on the dashboard.
	for _, n := range []string{"authbff_signins_total", "authbff_signouts_total", "authbff_session_reads_total",
		"authbff_refreshes_total", "authbff_refresh_duration_seconds", "authbff_proxy_requests_total",
		"authbff_proxy_duration_seconds", "authbff_store_operation_duration_seconds", "authbff_store_errors_total",
		"authbff_backchannel_logouts_total", "authbff_sessions_active"} {
		if !used[n] {
			t.Errorf("dashboard does not show %s", n)
		}
	}
	if queries < 10 {
		t.Errorf("%d queries; want a panel per metric", queries)
	}
}
