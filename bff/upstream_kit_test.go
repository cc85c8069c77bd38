package bff_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
)

// listenRS listens on a loopback port (known before the app starts, for a
// provider's redirect URI).
func listenRS(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// startProvOn is startProv on a given listener; both instances of a test
// share one callback host (127.0.0.1), so the browser's cookies reach both.
func startProvOn(t *testing.T, env map[string]string, ln net.Listener) *provApp {
	t.Helper()
	origin := "http://" + ln.Addr().String()
	o, err := provOptions(t, env, origin)
	if err != nil {
		ln.Close()
		t.Fatalf("options: %v", err)
	}
	logs := &provLogs{}
	o.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(logs, t.Output()), nil))
	b, err := bff.New(context.Background(), o)
	if err != nil {
		ln.Close()
		t.Fatalf("bff.New: %v", err)
	}
	srv := &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		b.Close()
	})
	return &provApp{URL: origin, Logs: logs, BFF: b}
}
