package bff

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRequestIDFromTrustedProxiesOnly (issue 19 C4): a client's
// X-Request-Id is kept only when the peer is a trusted proxy; otherwise
// authbff answers (and logs, and forwards) its own id and logs the client's
// as client_request_id.
func TestRequestIDFromTrustedProxiesOnly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		sent    string
		kept    bool
	}{
		{"untrusted peer", nil, "client-chosen-id", false},
		{"another trusted network", []string{"10.0.0.0/8"}, "client-chosen-id", false},
		{"trusted proxy", []string{"127.0.0.1"}, "client-chosen-id", true},
		{"trusted proxy, unprintable id", []string{"127.0.0.0/8"}, "a b", false},
		{"trusted proxy, long id", []string{"127.0.0.1"}, strings.Repeat("x", 65), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			bf, err := New(context.Background(), Options{
				URL: "http://localhost:3000", StoreSpec: "memory", DataDir: t.TempDir(), TrustedProxies: mustPrefixes(t, tc.trusted),
				Secrets:   []string{"0123456789abcdef0123456789abcdef"},
				Providers: []Provider{{ID: "okta", Issuer: "https://idp.example", ClientID: "x", ClientSecret: "y"}},
				Logger:    slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer bf.Close()
			srv := httptest.NewServer(bf.Handler())
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/healthz", nil)
			req.Header.Set("X-Request-Id", tc.sent)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			srv.Close() // the request line is logged before the server closes
			got := resp.Header.Get("X-Request-Id")
			if (got == tc.sent) != tc.kept || got == "" {
				t.Fatalf("X-Request-Id %q answered %q; kept = %v, want %v", tc.sent, got, got == tc.sent, tc.kept)
			}
			out := logs.String()
			if !strings.Contains(out, `"request_id":"`+got+`"`) {
				t.Fatalf("no request line with request_id %q:\n%s", got, out)
			}
			wantClient := !tc.kept && tc.sent == "client-chosen-id"
			if strings.Contains(out, `"client_request_id":"`+tc.sent+`"`) != wantClient {
				t.Fatalf("client_request_id logged = %v, want %v:\n%s", !wantClient, wantClient, out)
			}
		})
	}
}
