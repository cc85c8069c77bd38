package bff_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/devidp/devidptest"
)

// BenchmarkSessionReadShaped is GET /api/auth/session for ada (memory
// store, cache on) without any session shaping ("off"), with
// SessionClaims and SessionUserID ("claims": rendered once, cached), and
// with an OnSession hook ("hook": runs per read). "claims" must cost what
// "off" costs: the shaping is in the cached JSON (issue 23).
func BenchmarkSessionReadShaped(b *testing.B) {
	for _, tc := range []struct {
		name string
		set  func(*bff.Options)
	}{
		{"off", func(*bff.Options) {}},
		{"claims", func(o *bff.Options) {
			o.SessionClaims = map[string]string{"roles": "cognito:groups"}
			o.SessionUserID = true
		}},
		{"hook", func(o *bff.Options) {
			o.OnSession = func(context.Context, bff.SessionInfo) map[string]any { return map[string]any{"plan": "pro"} }
		}},
	} {
		b.Run(tc.name, func(b *testing.B) { benchShapedRead(b, tc.set) })
	}
}

// benchShapedRead measures GET /api/auth/session for ada (memory store,
// cache on) in-process, Options adjusted by set.
func benchShapedRead(b *testing.B, set func(*bff.Options)) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	o := bff.Options{URL: base, DevIdP: true, StoreSpec: "memory", Logger: slog.New(slog.DiscardHandler)}
	set(&o)
	bf, err := bff.New(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	defer bf.Close()
	srv := &http.Server{Handler: bf.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	c := shapeClient()
	if _, err := devidptest.SignIn(c, base, "", "ada"); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/auth/session", nil)
	for _, ck := range c.Jar.Cookies(mustURL(b, base)) {
		req.AddCookie(ck)
	}
	h := bf.Handler()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if !strings.Contains(w.Body.String(), "ada@example.com") {
		b.Fatalf("not signed in: %s", w.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
