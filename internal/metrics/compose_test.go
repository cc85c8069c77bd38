package metrics_test

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// composeDefault resolves compose's ${VAR:-default} and ${VAR:?msg} to what
// an empty environment gives ("" for ${VAR:?...}).
func composeDefault(s string) string {
	return regexp.MustCompile(`\$\{[A-Z0-9_]+(?::-([^}]*)|:\?[^}]*)?\}`).ReplaceAllString(s, "$1")
}

// TestComposeSharesOneDevIdP: docker-compose's two instances use ONE
// development IdP (so either refreshes the other's tokens and the demo API
// accepts both), reached at the same issuer URL by both instances and the
// browser: they share the IdP service's network namespace, whose ports are
// published on loopback only.
func TestComposeSharesOneDevIdP(t *testing.T) {
	var c struct {
		Services map[string]struct {
			Command     []string
			NetworkMode string `yaml:"network_mode"`
			Ports       []string
			Environment map[string]string
			Networks    map[string]struct {
				Aliases []string
			}
		}
	}
	readYAML(t, "docker-compose.yml", &c)
	var idps []string
	for name, s := range c.Services {
		if slices.Equal(s.Command, []string{"devidp"}) {
			idps = append(idps, name)
		}
	}
	if len(idps) != 1 {
		t.Fatalf("services running `authbff devidp`: %v, want exactly one", idps)
	}
	idp := c.Services[idps[0]]
	env := func(m map[string]string, k string) string { return composeDefault(m[k]) }
	idpPort := env(idp.Environment, "DEVIDP_PORT")
	if env(idp.Environment, "DEVIDP_HOST") != "0.0.0.0" {
		t.Errorf("the IdP listens on %q: a published port reaches only every interface", env(idp.Environment, "DEVIDP_HOST"))
	}
	issuer := "http://127.0.0.1:" + idpPort + "/us-east-1_authbffdev"
	redirects := strings.Split(env(idp.Environment, "DEVIDP_REDIRECT_URIS"), ",")
	published := map[string]bool{}
	for _, p := range idp.Ports {
		parts := strings.Split(p, ":")
		if len(parts) != 3 || parts[0] != "127.0.0.1" {
			t.Errorf("IdP service port %q is not published on 127.0.0.1 only", p)
			continue
		}
		published[parts[2]] = true
	}
	if !published[idpPort] {
		t.Errorf("the IdP's port %s is not published (the browser signs in there)", idpPort)
	}
	var aliases []string
	for _, n := range idp.Networks {
		aliases = append(aliases, n.Aliases...)
	}
	ports, metrics := map[string]bool{}, map[string]bool{}
	for _, name := range []string{"authbff-a", "authbff-b"} {
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		e := s.Environment
		if s.NetworkMode != "service:"+idps[0] {
			t.Errorf("%s: network_mode %q; want service:%s (127.0.0.1:%s is then the IdP for it and the browser alike)", name, s.NetworkMode, idps[0], idpPort)
		}
		if len(s.Ports) != 0 {
			t.Errorf("%s publishes %v; the shared namespace's ports are published by %s", name, s.Ports, idps[0])
		}
		if !slices.Contains(aliases, name) {
			t.Errorf("%s is not an alias of the shared namespace (Prometheus scrapes it by name)", name)
		}
		if env(e, "COGNITO_ISSUER") != issuer || env(e, "COGNITO_CLIENT_ID") != env(idp.Environment, "DEVIDP_CLIENT_ID") {
			t.Errorf("%s: COGNITO_ISSUER %q, COGNITO_CLIENT_ID %q; want the shared IdP %s, client %s", name,
				env(e, "COGNITO_ISSUER"), env(e, "COGNITO_CLIENT_ID"), issuer, env(idp.Environment, "DEVIDP_CLIENT_ID"))
		}
		if env(e, "UPSTREAM_DEMO") != "http://127.0.0.1:"+idpPort+"/demo-api" {
			t.Errorf("%s: UPSTREAM_DEMO %q is not the shared IdP's demo API", name, env(e, "UPSTREAM_DEMO"))
		}
		if e["SESSION_STORE"] != "redis://redis:6379/0" {
			t.Errorf("%s: SESSION_STORE %q", name, e["SESSION_STORE"])
		}
		port := env(e, "PORT")
		if !published[port] {
			t.Errorf("%s's PORT %s is not published", name, port)
		}
		if !slices.Contains(redirects, env(e, "NEXTAUTH_URL")+"/api/auth/callback/cognito") {
			t.Errorf("%s's callback URL is not among the IdP's DEVIDP_REDIRECT_URIS %v", name, redirects)
		}
		_, mport, err := net.SplitHostPort(env(e, "METRICS_ADDR"))
		if err != nil {
			t.Fatalf("%s: METRICS_ADDR: %v", name, err)
		}
		// One namespace: every listening port must differ.
		if ports[port] || metrics[mport] || port == idpPort || mport == idpPort {
			t.Errorf("%s: PORT %s or METRICS_ADDR port %s is taken by another service of the namespace", name, port, mport)
		}
		ports[port], metrics[mport] = true, true
	}
}

// TestDockerDataVolume: the image declares /data (the bolt store, the dev
// secret, the dev IdP's keys) a volume, and every `docker run` the README
// and the Dockerfile show mounts it, so they outlive the container.
func TestDockerDataVolume(t *testing.T) {
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(repoRoot, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	docker := read("Dockerfile")
	if !regexp.MustCompile(`(?m)^VOLUME \["/data"\]$`).MatchString(docker) || !strings.Contains(docker, "AUTHBFF_DATA_DIR=/data") {
		t.Error("the Dockerfile does not declare VOLUME [\"/data\"] as the data dir")
	}
	runs := 0
	for _, f := range []string{"README.md", "Dockerfile"} {
		for _, line := range strings.Split(read(f), "\n") {
			if !strings.Contains(line, "docker run ") {
				continue
			}
			runs++
			if !regexp.MustCompile(`-v [^ ]+:/data\b`).MatchString(line) {
				t.Errorf("%s: %q does not mount /data", f, strings.TrimSpace(line))
			}
		}
	}
	if runs == 0 {
		t.Error("no docker run example found")
	}
}

// TestReadmeStatesDurations: the first screen says how long the first
// build and the test suite take, before anyone waits for them.
func TestReadmeStatesDurations(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	head := readme[:strings.Index(readme, "\n## ")]
	for _, re := range []string{`first .{0,80}about \d+(-\d+)? minutes`, "`make test` takes\\s+about \\d+(-\\d+)? minutes on 2 cores"} {
		if !regexp.MustCompile(re).MatchString(head) {
			t.Errorf("the README's first screen does not match %q", re)
		}
	}
}
