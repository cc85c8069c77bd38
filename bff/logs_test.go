package bff

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestIdPStringsAreTruncatedInLogs (issue 19 C1): one unauthenticated
// callback carrying a 100 KB error_description (and error, and a 100 KB
// provider id) adds lines of under 1 KB to the log at level info. (The
// debug line of each request holds its path.)
func TestIdPStringsAreTruncatedInLogs(t *testing.T) {
	var logs syncBuffer
	bf, err := New(context.Background(), Options{
		URL: "http://localhost:3000", StoreSpec: "memory", DataDir: t.TempDir(),
		Secrets:   []string{"0123456789abcdef0123456789abcdef"},
		Providers: []Provider{{ID: "okta", Issuer: "https://idp.example", ClientID: "x", ClientSecret: "y"}},
		Logger:    slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer bf.Close()
	srv := httptest.NewServer(bf.Handler())
	defer srv.Close()
	huge := strings.Repeat("A", 100<<10)
	q := url.Values{"error": {"x" + huge}, "error_description": {huge}, "error_uri": {huge}, "state": {"s"}}
	for _, target := range []string{
		"/api/auth/callback/okta?" + q.Encode(),
		"/api/auth/callback/" + strings.Repeat("p", 100<<10) + "?" + q.Encode(),
	} {
		req, err := http.NewRequest(http.MethodGet, srv.URL+target, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultTransport.RoundTrip(req) // not following the redirect
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("callback: %d", resp.StatusCode)
		}
	}
	out := logs.String()
	if !strings.Contains(out, "identity provider returned an error") || !strings.Contains(out, "callback for an unknown provider") {
		t.Fatalf("the callbacks were not logged:\n%.2000s", out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if len(line) > 1024 {
			t.Errorf("a log line of %d bytes: %.300s...", len(line), line)
		}
	}
}
