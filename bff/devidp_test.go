package bff_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/authbff/authbff/bff"
)

// TestDevIdPDecidesOnThePeer (issue 19): /_devidp/ answers loopback peers
// and the DevIdPAllowCIDRs networks only, and refuses every other peer,
// Host: localhost or X-Forwarded-For: 127.0.0.1 included. A Host header
// can only refuse (a foreign name: DNS rebinding), never let in.
func TestDevIdPDecidesOnThePeer(t *testing.T) {
	b, err := bff.New(context.Background(), bff.Options{
		URL: "http://localhost:3000", StoreSpec: "memory", DataDir: t.TempDir(), DevIdP: true, Logger: slog.New(slog.DiscardHandler),
		DevIdPAllowCIDRs: []netip.Prefix{netip.MustParsePrefix("172.17.0.0/16")},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const discovery = "/_devidp/us-east-1_authbffdev/.well-known/openid-configuration"
	tests := []struct {
		peer, host string
		want       int
	}{
		{"127.0.0.1:50000", "localhost:3000", 200},
		{"127.0.0.1:50000", "127.0.0.1:3000", 200},
		{"127.0.0.1:50000", "evil.example", 403}, // DNS rebinding: a foreign name re-pointed at 127.0.0.1
		{"[::1]:50000", "localhost:3000", 200},
		{"[::ffff:127.0.0.1]:50000", "localhost:3000", 200},
		{"172.17.0.1:50000", "localhost:3000", 200}, // DevIdPAllowCIDRs
		{"192.0.2.1:50000", "localhost:3000", 403},
		{"192.0.2.1:50000", "localhost", 403},
		{"192.0.2.1:50000", "127.0.0.1:3000", 403},
		{"[2001:db8::1]:50000", "[::1]:3000", 403},
		{"172.18.0.1:50000", "localhost:3000", 403},
		{"not an address", "localhost:3000", 403},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, discovery, nil)
		r.RemoteAddr, r.Host = tt.peer, tt.host
		r.Header.Set("X-Forwarded-For", "127.0.0.1")
		w := httptest.NewRecorder()
		b.Handler().ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("peer %s, Host %s: %d, want %d", tt.peer, tt.host, w.Code, tt.want)
		}
		if tt.want == 403 && !strings.Contains(w.Body.String(), "devidp_") {
			t.Errorf("peer %s: refusal body %s", tt.peer, w.Body)
		}
		if tt.want == 200 && !strings.Contains(w.Body.String(), `"issuer"`) {
			t.Errorf("peer %s: discovery body %s", tt.peer, w.Body)
		}
	}
}

// TestDevIdPOnlyWhenAsked: Options without a provider start no
// development IdP unless DevIdP asks for it: New refuses them, naming the
// fields to set.
func TestDevIdPOnlyWhenAsked(t *testing.T) {
	o := bff.Options{Logger: slog.New(slog.DiscardHandler)}
	if b, err := bff.New(context.Background(), o); err == nil {
		b.Close()
		t.Fatal("New started with no provider and DevIdP unset")
	} else if !strings.Contains(err.Error(), "Providers") || !strings.Contains(err.Error(), "DevIdP") {
		t.Fatalf("the refusal does not say what to do: %v", err)
	}
	o.DevIdP = true
	b, err := bff.New(context.Background(), o)
	if err != nil {
		t.Fatalf("New with DevIdP: %v", err)
	}
	defer b.Close()
	if b.DevIdPIssuer() == "" {
		t.Fatal("DevIdP set, no provider, yet no development IdP")
	}
}
