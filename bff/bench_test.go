package bff_test

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/devidp/devidptest"
	"github.com/authbff/authbff/internal/redistest"
)

// benchApp runs a real authbff (dev IdP, the given SESSION_STORE) on a
// loopback port, signs in once through the embedded dev IdP exactly as a
// browser does, and returns the binary's handler (the Gin engine with bff mounted) and the session cookie value.
// The benchmarks then call the handler directly (httptest.NewRecorder), so
// they measure authbff's work without the network.
func benchApp(b *testing.B, store string) (http.Handler, string) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if store == "bolt" {
		store = "bolt:" + filepath.Join(dir, "sessions.db")
	}
	env := map[string]string{"NEXTAUTH_URL": "http://" + ln.Addr().String(), "SESSION_STORE": store}
	o, err := envOptions(b, env, ln)
	if err != nil {
		ln.Close()
		b.Fatalf("settings: %v", err)
	}
	o.Logger = slog.New(slog.DiscardHandler)
	app := newTestServerOn(b, o, ln)
	tok, err := benchSignIn(app.URL)
	if err != nil {
		b.Fatalf("sign-in: %v", err)
	}
	return app.srv.Handler, tok
}

// benchSignIn does a complete sign-in against the embedded dev IdP: csrf,
// signin (json=true), the IdP login form for ada, the callback.
func benchSignIn(base string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := devidptest.SignIn(c, base, base+"/", "ada")
	if err != nil {
		return "", err
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "next-auth.session-token" && ck.Value != "" {
			return ck.Value, nil
		}
	}
	return "", fmt.Errorf("callback: %d, no session cookie", resp.StatusCode)
}

func benchSessionRequest(tok string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/api/auth/session", nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36")
	req.Header.Set("Accept", "*/*")
	if tok != "" {
		req.Header.Set("Cookie", "next-auth.session-token="+tok)
	}
	return req
}

func benchSessionRead(b *testing.B, store string, signedIn bool) {
	h, tok := benchApp(b, store)
	if !signedIn {
		tok = ""
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, benchSessionRequest(tok))
	if w.Code != 200 || (signedIn && !strings.Contains(w.Body.String(), "ada@example.com")) || (!signedIn && w.Body.String() != "{}") {
		b.Fatalf("GET /api/auth/session: %d %s", w.Code, w.Body)
	}
	req := benchSessionRequest(tok)
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

// BenchmarkSessionRead is GET /api/auth/session with a signed-in cookie,
// end to end through the Gin engine (middleware, cookie, store, unseal,
// JSON), per store. The Redis case runs a throwaway redis-server
// (internal/redistest) and is skipped when there is none.
func BenchmarkSessionRead(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchSessionRead(b, "memory", true) })
	b.Run("bolt", func(b *testing.B) { benchSessionRead(b, "bolt", true) })
	b.Run("redis", func(b *testing.B) {
		if _, err := exec.LookPath("redis-server"); err != nil && os.Getenv("REDIS_URL") == "" {
			b.Skip("redis-server is not installed")
		}
		benchSessionRead(b, redistest.Start(b).URL, true)
	})
	b.Run("signed-out", func(b *testing.B) { benchSessionRead(b, "memory", false) })
}

// BenchmarkSessionReadParallel is the memory-store read from GOMAXPROCS
// goroutines (contention in the store, pools and logger).
func BenchmarkSessionReadParallel(b *testing.B) {
	h, tok := benchApp(b, "memory")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := benchSessionRequest(tok)
		for pb.Next() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Error(w.Code)
				return
			}
		}
	})
}
