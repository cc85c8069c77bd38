package helmtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

const (
	chartDir   = "../authbff"
	fullValues = "../authbff/ci/full-values.yaml"
	secretDir  = "/etc/authbff/secrets/"
)

// helmBin finds helm on PATH or where `make helm-test` installs it
// ($(go env GOPATH)/bin). A missing helm is a failure, never a skip: CI
// must not pass without checking the chart.
func helmBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "helm")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("helm not found on PATH nor in $(go env GOPATH)/bin: run `make helm-test` (it installs helm), " +
		"or `go install helm.sh/helm/v3/cmd/helm@v3.22.1`")
	return ""
}

// helm runs helm with args and returns stdout, failing the test (with
// stderr) when it exits non-zero and wantErr is false.
func helm(t *testing.T, wantErr bool, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// helm keeps caches and repositories under HOME; keep the test's own.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home+"/cache", "HELM_CONFIG_HOME="+home+"/config", "HELM_DATA_HOME="+home+"/data")
	err := cmd.Run()
	if (err != nil) != wantErr {
		t.Fatalf("helm %s: err=%v (want error: %v)\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, wantErr, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

func TestLint(t *testing.T) {
	out, _ := helm(t, false, "lint", "--strict", chartDir)
	if !strings.Contains(out, "0 chart(s) failed") {
		t.Errorf("helm lint (defaults): %s", out)
	}
	out, _ = helm(t, false, "lint", "--strict", "-f", fullValues, chartDir)
	if !strings.Contains(out, "0 chart(s) failed") {
		t.Errorf("helm lint (full values): %s", out)
	}
}

// serviceMonitor is the part of the Prometheus Operator's
// monitoring.coreos.com/v1 ServiceMonitor the chart renders (the operator's
// types are not in k8s.io/api); decoded strictly like the rest.
type serviceMonitor struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// rendered is what one `helm template` produced, decoded.
type rendered struct {
	kinds          []string
	deployment     *appsv1.Deployment
	service        *corev1.Service
	secret         *corev1.Secret
	pdb            *policyv1.PodDisruptionBudget
	ingress        *networkingv1.Ingress
	serviceMonitor *serviceMonitor
}

// render runs helm template with args and decodes every manifest strictly
// (sigs.k8s.io/yaml.UnmarshalStrict: YAML to JSON, then unknown or
// duplicate fields fail) into its Kubernetes API type.
func render(t *testing.T, args ...string) rendered {
	t.Helper()
	out, _ := helm(t, false, append([]string{"template", "rel", chartDir, "--namespace", "auth"}, args...)...)
	var r rendered
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(out, -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("manifest is not YAML: %v\n%s", err, doc)
		}
		var obj any
		switch meta.APIVersion + " " + meta.Kind {
		case "apps/v1 Deployment":
			r.deployment = &appsv1.Deployment{}
			obj = r.deployment
		case "v1 Service":
			r.service = &corev1.Service{}
			obj = r.service
		case "v1 Secret":
			r.secret = &corev1.Secret{}
			obj = r.secret
		case "v1 ServiceAccount":
			obj = &corev1.ServiceAccount{}
		case "policy/v1 PodDisruptionBudget":
			r.pdb = &policyv1.PodDisruptionBudget{}
			obj = r.pdb
		case "networking.k8s.io/v1 Ingress":
			r.ingress = &networkingv1.Ingress{}
			obj = r.ingress
		case "monitoring.coreos.com/v1 ServiceMonitor":
			r.serviceMonitor = &serviceMonitor{}
			obj = r.serviceMonitor
		default:
			t.Fatalf("rendered %s %s, which this test has no type for:\n%s", meta.APIVersion, meta.Kind, doc)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s does not decode strictly into its API type: %v\n%s", meta.Kind, err, doc)
		}
		r.kinds = append(r.kinds, meta.Kind)
	}
	sort.Strings(r.kinds)
	return r
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// envOf returns the container's environment as a map.
func envOf(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		m[e.Name] = e.Value
	}
	return m
}

// checkDeployment asserts what every rendering must hold: non-root,
// read-only root filesystem, probes on /healthz and /readyz of the metrics
// port (where METRICS_ADDR listens), a grace period covering the drain and
// the shutdown timeout, and secrets only as files.
func checkDeployment(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	if d == nil {
		t.Fatal("no Deployment rendered")
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("pod securityContext.runAsNonRoot is not true")
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsUser == nil || *pod.SecurityContext.RunAsUser == 0 {
		t.Error("pod securityContext.runAsUser is unset or root")
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("container securityContext.readOnlyRootFilesystem is not true")
	}
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("container securityContext.runAsNonRoot is not true")
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("container allows privilege escalation")
	}

	env := envOf(c)
	metricsPort := int32(0)
	for _, p := range c.Ports {
		if p.Name == "metrics" {
			metricsPort = p.ContainerPort
		}
	}
	if metricsPort == 0 || env["METRICS_ADDR"] != fmt.Sprintf(":%d", metricsPort) {
		t.Errorf("METRICS_ADDR=%q does not listen on the metrics container port %d", env["METRICS_ADDR"], metricsPort)
	}
	for _, pr := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}, {"startup", c.StartupProbe, "/healthz"}} {
		if pr.probe == nil || pr.probe.HTTPGet == nil {
			t.Errorf("no %s httpGet probe", pr.name)
			continue
		}
		if pr.probe.HTTPGet.Path != pr.path || pr.probe.HTTPGet.Port.String() != "metrics" {
			t.Errorf("%s probe = %s on port %s, want %s on the metrics port", pr.name, pr.probe.HTTPGet.Path, pr.probe.HTTPGet.Port.String(), pr.path)
		}
	}

	drain, err1 := time.ParseDuration(env["SHUTDOWN_DRAIN_DELAY"])
	timeout, err2 := time.ParseDuration(env["SHUTDOWN_TIMEOUT"])
	if err1 != nil || err2 != nil {
		t.Fatalf("SHUTDOWN_DRAIN_DELAY=%q SHUTDOWN_TIMEOUT=%q", env["SHUTDOWN_DRAIN_DELAY"], env["SHUTDOWN_TIMEOUT"])
	}
	if g := pod.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second <= drain+timeout {
		t.Errorf("terminationGracePeriodSeconds %v does not cover the drain %s + shutdown timeout %s", g, drain, timeout)
	}

	mounted := map[string]bool{}
	for _, m := range c.VolumeMounts {
		mounted[m.MountPath] = true
		if m.MountPath == "/" {
			t.Error("a volume is mounted over /")
		}
	}
	if !mounted["/data"] || env["AUTHBFF_DATA_DIR"] != "/data" {
		t.Error("the data dir /data is not a writable volume (the root filesystem is read-only)")
	}
	for name, v := range env {
		for _, secret := range []string{"NEXTAUTH_SECRET", "NEXTAUTH_SECRET_PREVIOUS", "COGNITO_CLIENT_SECRET", "AUTH_OKTA_SECRET"} {
			if name == secret {
				t.Errorf("%s is an environment variable; secrets must be files read through %s_FILE", name, name)
			}
		}
		if strings.HasSuffix(name, "_FILE") && (!strings.HasPrefix(v, secretDir) || !mounted[strings.TrimSuffix(secretDir, "/")]) {
			t.Errorf("%s=%s is not a file of the mounted Secret", name, v)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			t.Errorf("%s comes from valueFrom; secrets must be mounted files", e.Name)
		}
	}
}

func TestTemplateDefaults(t *testing.T) {
	r := render(t)
	if want := []string{"Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"}; !slices.Equal(r.kinds, want) {
		t.Errorf("rendered %v, want %v", r.kinds, want)
	}
	checkDeployment(t, r.deployment)
	env := envOf(r.deployment.Spec.Template.Spec.Containers[0])
	if env["SESSION_STORE"] != "bolt:/data/sessions.db" {
		t.Errorf("SESSION_STORE=%q, want the bolt store on the data volume", env["SESSION_STORE"])
	}
	if *r.deployment.Spec.Replicas != 1 {
		t.Errorf("replicas %d with a bolt store, want 1", *r.deployment.Spec.Replicas)
	}
	for k := range env {
		if strings.HasPrefix(k, "OTEL_") {
			t.Errorf("%s set by default; want no traces unless otel.endpoint is set", k)
		}
	}
	if r.pdb.Spec.MaxUnavailable == nil || r.pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("PodDisruptionBudget %+v: want maxUnavailable 1 (never blocks a drain with one replica)", r.pdb.Spec)
	}
}

func TestTemplateFullValues(t *testing.T) {
	r := render(t, "-f", fullValues)
	want := []string{"Deployment", "Ingress", "PodDisruptionBudget", "Secret", "Service", "ServiceAccount", "ServiceMonitor"}
	if !slices.Equal(r.kinds, want) {
		t.Errorf("rendered %v, want %v", r.kinds, want)
	}
	checkDeployment(t, r.deployment)
	pod := r.deployment.Spec.Template.Spec
	env := envOf(pod.Containers[0])
	if *r.deployment.Spec.Replicas != 3 || *pod.TerminationGracePeriodSeconds != 55 {
		t.Errorf("replicas %d, grace %d; want 3 and 10+40+5", *r.deployment.Spec.Replicas, *pod.TerminationGracePeriodSeconds)
	}
	for k, v := range map[string]string{
		"NEXTAUTH_URL": "https://app.example.com", "COGNITO_CLIENT_ID": "1example23456789",
		"COGNITO_DOMAIN": "myapp.auth.eu-west-1.amazoncognito.com", "AUTH_OKTA_ISSUER": "https://example.okta.com",
		"AUTH_OKTA_ID": "0oa1example", "UPSTREAM_ORDERS": "https://orders.internal.example.com/v1",
		"AUTH_SESSION_MAX_AGE": "86400", "TRUSTED_PROXIES": "10.0.0.0/8",
		"NEXTAUTH_SECRET_FILE": secretDir + "NEXTAUTH_SECRET", "COGNITO_CLIENT_SECRET_FILE": secretDir + "COGNITO_CLIENT_SECRET",
		"AUTH_OKTA_SECRET_FILE": secretDir + "AUTH_OKTA_SECRET", "SESSION_STORE_FILE": secretDir + "SESSION_STORE",
		"NEXTAUTH_SECRET_PREVIOUS_FILE": secretDir + "NEXTAUTH_SECRET_PREVIOUS",
		"OTEL_EXPORTER_OTLP_ENDPOINT":   "http://otel-collector.observability:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		"OTEL_SERVICE_NAME": "authbff-prod",
	} {
		if env[k] != v {
			t.Errorf("%s=%q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["SESSION_STORE"]; ok {
		t.Error("SESSION_STORE with a password is an environment variable; want it in the Secret")
	}
	// The mounted volume is the chart's Secret, which holds every key named.
	var secretVol string
	for _, v := range pod.Volumes {
		if v.Secret != nil {
			secretVol = v.Secret.SecretName
		}
	}
	if r.secret == nil || secretVol != r.secret.Name {
		t.Fatalf("mounted secret %q, rendered %v", secretVol, r.secret)
	}
	for k, v := range env {
		if name, ok := strings.CutSuffix(k, "_FILE"); ok {
			if _, held := r.secret.StringData[name]; !held {
				t.Errorf("%s reads key %s, which the Secret does not hold", k, name)
			}
			if v != secretDir+name {
				t.Errorf("%s=%s", k, v)
			}
		}
	}
	store := r.secret.StringData["SESSION_STORE"]
	if want := "redis-sentinel://authbff:p%40ss%20word%2B1@redis-sentinel-0.redis:26379,redis-sentinel-1.redis:26379,redis-sentinel-2.redis:26379/mymaster?db=1&op_timeout=1s&pool_size=20&sentinel_password=sentinel-pass"; store != want {
		t.Errorf("SESSION_STORE in the Secret = %q, want %q", store, want)
	}
	if r.pdb.Spec.MinAvailable == nil || r.pdb.Spec.MinAvailable.IntValue() != 2 || r.pdb.Spec.MaxUnavailable != nil {
		t.Errorf("PodDisruptionBudget %+v, want minAvailable 2 only", r.pdb.Spec)
	}
	if ing := r.ingress.Spec; len(ing.Rules) != 1 || ing.Rules[0].Host != "app.example.com" || len(ing.TLS) != 1 ||
		ing.Rules[0].HTTP.Paths[0].Backend.Service.Name != r.service.Name || ing.Rules[0].HTTP.Paths[0].Backend.Service.Port.Name != "http" {
		t.Errorf("Ingress %+v does not route app.example.com to the Service's http port", ing)
	}
	if sm := r.serviceMonitor; sm.Spec.Endpoints[0].Port != "metrics" || sm.Spec.Endpoints[0].Path != "/metrics" || sm.Metadata.Labels["release"] != "prometheus" {
		t.Errorf("ServiceMonitor %+v", sm.Spec)
	}
	for k, v := range r.serviceMonitor.Spec.Selector.MatchLabels {
		if r.service.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s, which the Service lacks", k, v)
		}
	}
}

func TestTemplateExistingSecret(t *testing.T) {
	r := render(t, "--set", "existingSecret.name=prod-authbff", "--set", "existingSecret.keys={NEXTAUTH_SECRET,COGNITO_CLIENT_SECRET,SESSION_STORE}",
		"--set", "secrets.values.NEXTAUTH_SECRET=ignored-with-an-existing-secret")
	if r.secret != nil {
		t.Error("a Secret is rendered although existingSecret is set")
	}
	checkDeployment(t, r.deployment)
	env := envOf(r.deployment.Spec.Template.Spec.Containers[0])
	if env["SESSION_STORE_FILE"] != secretDir+"SESSION_STORE" || env["COGNITO_CLIENT_SECRET_FILE"] == "" {
		t.Errorf("env %v", env)
	}
	if _, ok := env["SESSION_STORE"]; ok {
		t.Error("SESSION_STORE is set although the existing Secret holds it")
	}
	found := false
	for _, v := range r.deployment.Spec.Template.Spec.Volumes {
		found = found || v.Secret != nil && v.Secret.SecretName == "prod-authbff"
	}
	if !found {
		t.Error("the existing Secret is not mounted")
	}
}

// TestTemplateRefuses: settings that cannot work fail the rendering with
// what to change.
func TestTemplateRefuses(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--set", "replicaCount=2"}, "each pod would keep its own sessions"},
		{[]string{"--set", "sessionStore.type=redis"}, "needs sessionStore.redis.addresses"},
		{[]string{"--set", "sessionStore.type=mongo"}, "is not memory, bolt, redis, sentinel, cluster or postgres"},
		{[]string{"--set", "sessionStore.type=postgres"}, "needs sessionStore.postgres.address"},
		{[]string{"--set", "secrets.values.nextauth-secret=x"}, "is not a variable name"},
		{[]string{"--set", "existingSecret.name=x", "--set", "sessionStore.type=redis", "--set", "sessionStore.redis.addresses={r:6379}",
			"--set", "sessionStore.redis.password=pw"}, "put the whole store URL into that Secret"},
	} {
		_, stderr := helm(t, true, append([]string{"template", "rel", chartDir}, c.args...)...)
		if !strings.Contains(stderr, c.want) {
			t.Errorf("helm template %v: stderr %q lacks %q", c.args, stderr, c.want)
		}
	}
}

// TestTemplatePostgres: sessionStore.type postgres builds the URL, keeps a
// password in the Secret (read through SESSION_STORE_FILE), and allows
// several replicas.
func TestTemplatePostgres(t *testing.T) {
	r := render(t, "--set", "replicaCount=2", "--set", "sessionStore.type=postgres",
		"--set", "sessionStore.postgres.address=pg.db:5432", "--set", "sessionStore.postgres.password=p@ss word",
		"--set", "sessionStore.postgres.schema=auth", "--set", "sessionStore.postgres.params.op_timeout=2s")
	checkDeployment(t, r.deployment)
	env := envOf(r.deployment.Spec.Template.Spec.Containers[0])
	if _, ok := env["SESSION_STORE"]; ok || env["SESSION_STORE_FILE"] != secretDir+"SESSION_STORE" {
		t.Errorf("env %v: want the store URL (with its password) only in the Secret", env)
	}
	want := "postgres://authbff:p%40ss%20word@pg.db:5432/authbff?op_timeout=2s&schema=auth&sslmode=require"
	if r.secret == nil || r.secret.StringData["SESSION_STORE"] != want {
		t.Fatalf("SESSION_STORE in the Secret = %v, want %q", r.secret, want)
	}
	r = render(t, "--set", "sessionStore.type=postgres", "--set", "sessionStore.postgres.address=pg.db:5432", "--set", "sessionStore.postgres.sslmode=disable")
	if env := envOf(r.deployment.Spec.Template.Spec.Containers[0]); env["SESSION_STORE"] != "postgres://authbff@pg.db:5432/authbff?sslmode=disable" {
		t.Errorf("SESSION_STORE without a password = %q", env["SESSION_STORE"])
	}
}
