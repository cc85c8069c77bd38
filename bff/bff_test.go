package bff_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/devidp/devidptest"
)

// TestHandlerOnServeMux mounts the library on a plain net/http mux next to
// a handler of the host behind Require, from hand-filled Options (dev IdP,
// memory store), and signs a person in.
func TestHandlerOnServeMux(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	b, err := bff.New(context.Background(), bff.Options{
		URL: base, StoreSpec: "memory", DataDir: t.TempDir(), DevIdP: true, SPA: spaHandler(t), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mux := http.NewServeMux()
	mux.Handle("GET /api/me", b.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := bff.SessionFrom(r.Context())
		if !ok {
			http.Error(w, "no session in the context", 500)
			return
		}
		tok, err := s.AccessToken(r.Context())
		if err != nil {
			b.WriteError(w, r, err)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"name": s.User().Name, "sub": s.User().Sub,
			"provider": s.User().Provider, "token_len": len(tok)})
	})))
	mux.Handle("/", b.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	cj, _ := cookiejar.New(nil)
	c := &http.Client{Jar: cj, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	me := func(csrf bool) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/me", nil)
		if csrf {
			req.Header.Set("X-CSRF", "1")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	if code, v := me(true); code != 401 || v["error"] != "unauthenticated" || v["message"] == "" {
		t.Fatalf("no session: %d %v", code, v)
	}
	signIn(t, c, base)
	if code, v := me(false); code != 401 || v["error"] != "csrf_header_missing" {
		t.Fatalf("no X-CSRF: %d %v", code, v)
	}
	code, v := me(true)
	if code != 200 || v["name"] != "Ada Lovelace" || v["provider"] != "cognito" || v["sub"] == "" || v["token_len"].(float64) < 100 {
		t.Fatalf("with a session: %d %v", code, v)
	}
	// The session JSON and the SPA come from the same mux.
	resp, err := c.Get(base + "/api/auth/session")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Ada Lovelace") {
		t.Fatalf("session: %s", body)
	}
	if r, err := c.Get(base + "/protected"); err != nil || r.StatusCode != 200 {
		t.Fatalf("protected page: %v %v", r, err)
	}
}

func signIn(t *testing.T, c *http.Client, base string) {
	t.Helper()
	done, err := devidptest.SignIn(c, base, "", "ada")
	if err != nil {
		t.Fatal(err)
	}
	if done.StatusCode != http.StatusFound || strings.Contains(done.Header.Get("Location"), "error") {
		t.Fatalf("callback: %d %s", done.StatusCode, done.Header.Get("Location"))
	}
}

// TestOptionsAreChecked: New reports every problem of hand-filled Options
// at once, each by its field, never by an environment variable.
func TestOptionsAreChecked(t *testing.T) {
	_, err := bff.New(context.Background(), bff.Options{
		URL: "ftp://x", CORSOrigins: []string{"*"}, StoreSpec: "memory",
		Providers: []bff.Provider{{ID: "okta", ClientID: "x"}},
	})
	if err == nil {
		t.Fatal("bad options accepted")
	}
	for _, want := range []string{"URL", "CORSOrigins[0]", "Providers[0].Issuer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	for _, env := range []string{"NEXTAUTH_URL", "CORS_ORIGINS", "AUTH_"} {
		if strings.Contains(err.Error(), env) {
			t.Errorf("error names the variable %s: %v", env, err)
		}
	}
}
