package bff_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/devidp/devidptest"
)

const adaSub = "0b1f6a2e-8c1d-4d8e-9a51-3c2f7e6d5a01" // the dev IdP's ada

// TestAdminRevoke signs ada in, then ends her sessions through the admin
// handler with the credential derived from the development secret the BFF
// made, after the endpoint refused a bad body; /metrics is still served.
func TestAdminRevoke(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	dir := t.TempDir()
	o := bff.Options{URL: base, StoreSpec: "memory", DataDir: dir, DevIdP: true, Logger: slog.New(slog.DiscardHandler)}
	b, err := bff.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := &http.Server{Handler: b.Handler()}
	go srv.Serve(ln)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if _, err := devidptest.SignIn(c, base, base+"/", "ada"); err != nil {
		t.Fatal(err)
	}

	cred, err := o.AdminCredential()
	if err != nil {
		t.Fatal(err)
	}
	admin := b.AdminHandler()
	call := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+cred)
		w := httptest.NewRecorder()
		admin.ServeHTTP(w, req)
		return w
	}
	if w := call("POST", bff.AdminRevokePath, `{"sub":"`+adaSub+`"}`); w.Code != http.StatusBadRequest {
		t.Fatalf("no provider: %d %s", w.Code, w.Body)
	}
	if w := call("GET", "/metrics", ""); w.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", w.Code)
	}
	w := call("POST", bff.AdminRevokePath, `{"provider":"cognito","sub":"`+adaSub+`"}`)
	var ans bff.AdminRevokeAnswer
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &ans) != nil || ans.Ended != 1 || ans.Store != "memory" {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	resp, err := c.Get(base + "/api/auth/session")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s map[string]any
	if json.NewDecoder(resp.Body).Decode(&s) == nil && s["user"] != nil {
		t.Fatalf("after the revocation the session is %v", s)
	}
	if n, err := b.EndUserSessions(context.Background(), "cognito", adaSub); n != 0 || err != nil {
		t.Fatalf("second end: %d, %v", n, err)
	}
}

// TestAdminCredential: derived from the current secret (the same for the
// same secret, another for another), from the development secret file
// only when one exists (never made).
func TestAdminCredential(t *testing.T) {
	a, _ := bff.Options{Secrets: []string{"one-secret-0123456789abcdef0123456789ab", "old"}}.AdminCredential()
	a2, _ := bff.Options{Secrets: []string{"one-secret-0123456789abcdef0123456789ab"}}.AdminCredential()
	b, _ := bff.Options{Secrets: []string{"two-secret-0123456789abcdef0123456789ab"}}.AdminCredential()
	if a == "" || a != a2 || a == b || strings.Contains(a, "secret") {
		t.Fatalf("credentials %q %q %q", a, a2, b)
	}
	if _, err := (bff.Options{DataDir: t.TempDir()}).AdminCredential(); !errors.Is(err, bff.ErrNoAdminCredential) {
		t.Fatalf("no secret anywhere: %v", err)
	}
}

// TestRedactStoreSpec: no password in a store's name.
func TestRedactStoreSpec(t *testing.T) {
	for spec, want := range map[string]string{
		"memory":                           "memory",
		"bolt:./data/sessions.db":          "bolt:./data/sessions.db",
		"redis://:hunter2@10.0.0.5:6379/0": "redis://:xxxxx@10.0.0.5:6379/0",
	} {
		if got := bff.RedactStoreSpec(spec); got != want {
			t.Errorf("RedactStoreSpec(%q) = %q, want %q", spec, got, want)
		}
	}
}
