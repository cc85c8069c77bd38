package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/devidp/devidptest"
)

// TestEmbedExample builds the example program and drives it as a browser
// would: its own /api/orders answers 401 JSON without a session or without
// X-CSRF, and after a sign-in through the development IdP (configured with
// no variables but the port and data directory) it answers with the user's
// name and the orders the stub upstream returned for the user's access token.
func TestEmbedExample(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "embed")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port := freePort(t)
	base := "http://localhost:" + strconv.Itoa(port)

	// The stub orders API accepts only a token the dev IdP's demo API accepts.
	var seenToken string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		req, _ := http.NewRequest(http.MethodGet, base+"/_devidp/demo-api/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if !ok || err != nil || resp.StatusCode != 200 {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		resp.Body.Close()
		seenToken = tok
		_, _ = io.WriteString(w, `[{"id":1,"item":"tea"}]`)
	}))
	defer upstream.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PORT=" + strconv.Itoa(port),
		"AUTHBFF_DATA_DIR=" + t.TempDir(), "ORDERS_API=" + upstream.URL}
	cmd.Dir = t.TempDir() // no .env files
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Log(sc.Text())
			if strings.Contains(sc.Text(), "listening") {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the example did not start")
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	orders := func(csrf bool) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/orders", nil)
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
	if code, v := orders(true); code != 401 || v["error"] != "unauthenticated" {
		t.Fatalf("without a session: %d %v", code, v)
	}

	// Sign in as next-auth/react does: csrf, POST signin (json), the IdP.
	done, err := devidptest.SignIn(c, base, base+"/protected", "ada")
	if err != nil {
		t.Fatal(err)
	}
	if loc := done.Header.Get("Location"); loc != base+"/protected" {
		t.Fatalf("callback: %d -> %q", done.StatusCode, loc)
	}

	if code, v := orders(false); code != 401 || v["error"] != "csrf_header_missing" {
		t.Fatalf("without X-CSRF: %d %v", code, v)
	}
	code, v := orders(true)
	if code != 200 || v["user"] != "Ada Lovelace" || v["email"] != "ada@example.com" {
		t.Fatalf("with a session: %d %v", code, v)
	}
	if list, _ := v["orders"].([]any); len(list) != 1 || seenToken == "" {
		t.Fatalf("orders from the upstream: %v (token seen: %t)", v["orders"], seenToken != "")
	}
	// The SPA is mounted too, behind PROTECTED_PATHS.
	if r, err := c.Get(base + "/protected"); err != nil || r.StatusCode != 200 {
		t.Fatalf("protected page with a session: %v %v", r, err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
