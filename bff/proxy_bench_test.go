package bff

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/session"
)

// benchProxy is a BFF (memory store) with one upstream "bench" on loopback
// and one signed-in session, for the proxy benchmarks.
func benchProxy(b *testing.B) (h http.Handler, cookie string, upstream *httptest.Server) {
	b.Helper()
	upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"items":[1,2,3]}`)
	}))
	b.Cleanup(upstream.Close)
	bf, err := New(context.Background(), Options{
		URL: "http://localhost:3000", StoreSpec: "memory", DataDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler),
		Secrets: []string{"0123456789abcdef0123456789abcdef"}, Upstreams: map[string]string{"bench": upstream.URL},
		Providers: []Provider{{ID: "okta", Issuer: "https://idp.example", ClientID: "x", ClientSecret: "y"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bf.Close() })
	tok, _, err := bf.core.Sessions().Create(context.Background(), session.Data{
		Provider: "okta", Subject: "u1", User: session.User{Name: "Bench"},
		Tokens: session.Tokens{AccessToken: "access-token-for-bench", AccessExpiry: time.Now().Add(24 * time.Hour)},
	}, session.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	return bf.Handler(), tok, upstream
}

func runProxyBench(b *testing.B, h http.Handler, cookie string) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "/api/proxy/bench/items?x=1", nil)
			req.Header.Set("Cookie", "next-auth.session-token="+cookie)
			req.Header.Set("X-CSRF", "1")
			req.Header.Set("Accept", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkProxy is authbff's /api/proxy/bench/items in-process.
func BenchmarkProxy(b *testing.B) {
	h, cookie, _ := benchProxy(b)
	runProxyBench(b, h, cookie)
}

// BenchmarkProxyBaseline is a bare httputil.ReverseProxy doing cookie ->
// map -> bearer to the same upstream with a pooled transport.
func BenchmarkProxyBaseline(b *testing.B) {
	_, cookie, upstream := benchProxy(b)
	target, _ := url.Parse(upstream.URL)
	tokens := map[string]string{cookie: "access-token-for-bench"}
	tr := &http.Transport{MaxIdleConns: 1000, MaxIdleConnsPerHost: 1000, IdleConnTimeout: 90 * time.Second}
	rp := &httputil.ReverseProxy{Transport: tr, Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.URL.Path = "/items"
		pr.Out.Header.Del("Cookie")
		ck, _ := pr.In.Cookie("next-auth.session-token")
		pr.Out.Header.Set("Authorization", "Bearer "+tokens[ck.Value])
	}}
	runProxyBench(b, rp, cookie)
}
