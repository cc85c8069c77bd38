package metrics_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/metrics"
)

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestAdminHandler(t *testing.T) {
	var down error
	base := serve(t, metrics.New(), func(context.Context) error { return down })
	tests := []struct {
		path   string
		down   error
		status int
		body   string
	}{
		{"/healthz", nil, 200, `{"status":"ok"}`},
		{"/healthz", errors.New("store down"), 200, `{"status":"ok"}`},
		{"/readyz", nil, 200, `{"status":"ok"}`},
		{"/readyz", errors.New("store down"), 503, `{"status":"unavailable"}`},
		{"/metrics", nil, 200, "authbff_session_reads_total"},
		{"/", nil, 404, ""},
		{"/api/auth/session", nil, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			down = tt.down
			status, h, body := get(t, base+tt.path)
			if status != tt.status || !strings.Contains(body, tt.body) {
				t.Fatalf("GET %s = %d %q; want %d containing %q", tt.path, status, body, tt.status, tt.body)
			}
			if status == 503 && h.Get("Retry-After") != "5" {
				t.Errorf("503 without Retry-After: %v", h)
			}
		})
	}
}

func TestAdminHandlerWithoutMetrics(t *testing.T) {
	base := serve(t, nil, nil)
	if status, _, _ := get(t, base+"/metrics"); status != 404 {
		t.Errorf("/metrics with metrics off = %d; want 404", status)
	}
	if status, _, _ := get(t, base+"/readyz"); status != 200 {
		t.Errorf("/readyz with no readiness check = %d; want 200", status)
	}
}

func TestServeStopsWithContext(t *testing.T) {
	s, err := metrics.Listen("127.0.0.1:0", metrics.AdminHandler(nil, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	url := "http://" + s.Addr().String() + "/healthz"
	if status, _, _ := get(t, url); status != 200 {
		t.Fatalf("healthz %d", status)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after cancel = %v; want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if _, err := http.Get(url); err == nil {
		t.Error("listener still answers after shutdown")
	}
}

func TestListenOnABusyPortFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := metrics.Listen(ln.Addr().String(), http.NotFoundHandler(), nil); err == nil {
		t.Fatal("Listen on a taken port succeeded")
	}
	err = metrics.Serve(t.Context(), ln.Addr().String(), http.NotFoundHandler(), nil)
	if err == nil || !strings.Contains(err.Error(), "metrics: listen") {
		t.Fatalf("Serve on a taken port = %v", err)
	}
}

func TestServeWithEmptyAddrIsOff(t *testing.T) {
	done := make(chan error, 1)
	go func() { done <- metrics.Serve(context.Background(), "", http.NotFoundHandler(), nil) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve(\"\") = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal(`Serve("") did not return at once`)
	}
}

func TestDefaultAddrIsLoopback(t *testing.T) {
	host, port, err := net.SplitHostPort(metrics.DefaultAddr)
	if err != nil || !net.ParseIP(host).IsLoopback() || port != "9464" {
		t.Fatalf("DefaultAddr %q: want a loopback address on 9464", metrics.DefaultAddr)
	}
}
