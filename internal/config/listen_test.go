package config

import (
	"strings"
	"testing"
	"time"
)

// The drain delay exists for a load balancer to stop sending requests; none
// can be in front of the development IdP or a loopback listener, where it
// would only make a quick restart find the port still taken.
func TestDrainDelayDefault(t *testing.T) {
	provider := []string{"COGNITO_CLIENT_ID=abc", "COGNITO_ISSUER=https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
		"NEXTAUTH_SECRET=" + secret32}
	for _, c := range []struct {
		name string
		env  []string
		want time.Duration
	}{
		{"dev IdP", nil, 0},
		{"dev IdP on every interface", []string{"HOST=0.0.0.0"}, 0},
		{"provider, every interface", provider, 2 * time.Second},
		{"provider, HOST=127.0.0.1", append([]string{"HOST=127.0.0.1"}, provider...), 0},
		{"provider, HOST=::1", append([]string{"HOST=::1"}, provider...), 0},
		{"provider, HOST=10.0.0.5", append([]string{"HOST=10.0.0.5"}, provider...), 2 * time.Second},
		{"explicit wins on loopback", append([]string{"HOST=127.0.0.1", "SHUTDOWN_DRAIN_DELAY=3s"}, provider...), 3 * time.Second},
		{"explicit wins with the dev IdP", []string{"SHUTDOWN_DRAIN_DELAY=1"}, time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := mustLoad(t, c.env...).Server.DrainDelay; got != c.want {
				t.Errorf("DrainDelay = %s, want %s", got, c.want)
			}
		})
	}
}

func TestMetricsAddrSet(t *testing.T) {
	if c := mustLoad(t); c.MetricsAddrSet || c.MetricsAddr != "127.0.0.1:9464" {
		t.Errorf("default: %q set=%v", c.MetricsAddr, c.MetricsAddrSet)
	}
	if c := mustLoad(t, "METRICS_ADDR=127.0.0.1:9464"); !c.MetricsAddrSet {
		t.Error("METRICS_ADDR given: MetricsAddrSet is false")
	}
	if c := mustLoad(t, "METRICS_ADDR="); !c.MetricsAddrSet || c.MetricsAddr != "" {
		t.Errorf("METRICS_ADDR= (off): %q set=%v", c.MetricsAddr, c.MetricsAddrSet)
	}
}

func TestDevIdPCommandHost(t *testing.T) {
	c, err := LoadDevIdPCommand(Source{Environ: []string{}, NoFiles: true})
	if err != nil || c.Host != "127.0.0.1" {
		t.Fatalf("default host %q (%v), want 127.0.0.1", c.Host, err)
	}
	c, err = LoadDevIdPCommand(Source{Environ: []string{"DEVIDP_HOST=0.0.0.0"}, NoFiles: true})
	if err != nil || c.Host != "0.0.0.0" {
		t.Fatalf("DEVIDP_HOST=0.0.0.0: %q (%v)", c.Host, err)
	}
	if _, err := LoadDevIdPCommand(Source{Environ: []string{"DEVIDP_HOST=example.com"}, NoFiles: true}); err == nil || !strings.Contains(err.Error(), "DEVIDP_HOST") {
		t.Fatalf("DEVIDP_HOST=example.com: %v", err)
	}
}
