package bff

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// BenchmarkProxyDPoP is BenchmarkProxy with a DPoP-bound session: every
// call parses the session's key and signs a proof (ES256). Compare with
// BenchmarkProxy for the cost per proxied call (bench/RESULTS.md).
func BenchmarkProxyDPoP(b *testing.B) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"items":[1,2,3]}`)
	}))
	b.Cleanup(upstream.Close)
	bf, err := New(context.Background(), Options{
		URL: "http://localhost:3000", StoreSpec: "memory", DataDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler),
		Secrets: []string{"0123456789abcdef0123456789abcdef"}, Upstreams: map[string]string{"bench": upstream.URL},
		Providers: []Provider{{ID: "okta", Issuer: "https://idp.example", ClientID: "x", ClientSecret: "y", DPoP: true}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bf.Close() })
	k, err := oidc.NewDPoPKey()
	if err != nil {
		b.Fatal(err)
	}
	enc, _ := oidc.MarshalDPoPKey(k)
	tok, _, err := bf.core.Sessions().Create(context.Background(), session.Data{
		Provider: "okta", Subject: "u1", User: session.User{Name: "Bench"}, DPoPKey: enc,
		Tokens: session.Tokens{AccessToken: "access-token-for-bench", TokenType: "DPoP", AccessExpiry: time.Now().Add(24 * time.Hour)},
	}, session.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	runProxyBench(b, bf.Handler(), tok)
}
