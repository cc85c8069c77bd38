package api

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

const opsDefaultMetricsAddr = "127.0.0.1:9464"

// TestTwoInstancesOnOneMachine: two servers whose settings differ only in
// PORT both start: the default metrics address is the first's, the second
// warns that metrics are off and serves without them.
func TestTwoInstancesOnOneMachine(t *testing.T) {
	// Whether another process (not this test) holds the default already.
	takenBefore := true
	if ln, err := net.Listen("tcp", opsDefaultMetricsAddr); err == nil {
		takenBefore = false
		ln.Close()
	}
	env := func() map[string]string {
		return map[string]string{"PORT": opsFreePort(t), "AUTHBFF_DATA_DIR": t.TempDir(), "SHUTDOWN_DRAIN_DELAY": "1ms"}
	}
	a, logsA := opsStartServer(t, env())
	b, logsB := opsStartServer(t, env())
	for _, app := range []*testApp{a, b} {
		resp, err := http.Get(app.URL + "/api/auth/providers")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s/api/auth/providers: %d", app.URL, resp.StatusCode)
		}
	}
	if !takenBefore {
		if got := a.Main.MetricsAddr(); got != opsDefaultMetricsAddr {
			t.Errorf("first instance serves metrics on %q, want %s", got, opsDefaultMetricsAddr)
		}
		if strings.Contains(logsA.String(), "metrics are off") {
			t.Error("the first instance warns that metrics are off")
		}
	}
	if got := b.Main.MetricsAddr(); got != "" {
		t.Errorf("second instance serves metrics on %q, want none", got)
	}
	warn := ""
	for _, line := range strings.Split(logsB.String(), "\n") {
		if strings.Contains(line, "metrics are off") {
			warn = line
		}
	}
	if !strings.Contains(warn, "level=WARN") || !strings.Contains(warn, "METRICS_ADDR") || !strings.Contains(warn, opsDefaultMetricsAddr) {
		t.Errorf("second instance: no WARN that metrics are off naming METRICS_ADDR and %s; logs:\n%s", opsDefaultMetricsAddr, logsB)
	}
	// The development IdP's start-up hint names the README's headline settings.
	for _, v := range []string{"COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET", "COGNITO_DOMAIN"} {
		if !strings.Contains(logsA.String(), v) {
			t.Errorf("the development IdP's start-up hint does not name %s:\n%s", v, logsA)
		}
	}
}

// TestExplicitMetricsAddrTaken: a METRICS_ADDR that was asked for and
// cannot be listened on still stops the start, naming it.
func TestExplicitMetricsAddrTaken(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_, err = New(Options{Source: envSource(map[string]string{
		"PORT": opsFreePort(t), "AUTHBFF_DATA_DIR": t.TempDir(), "METRICS_ADDR": held.Addr().String(),
	}, t.TempDir())})
	if err == nil || !strings.Contains(err.Error(), "METRICS_ADDR="+held.Addr().String()) {
		t.Fatalf("New with a taken METRICS_ADDR: %v", err)
	}
}
