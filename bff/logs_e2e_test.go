package bff_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/authbff/authbff/internal/testkit"
)

// lockedBuffer is an io.Writer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestNoTokenInLogs runs sign-in, session reads, an API call through the
// proxy, a forced refresh and a federated sign-out with debug logging on, and
// checks that no token, cookie token or code appears in any log line.
func TestNoTokenInLogs(t *testing.T) {
	var logs lockedBuffer
	app := startAppWith(t, map[string]string{"SESSION_STORE": "memory"}, "127.0.0.1:0", io.MultiWriter(&logs, t.Output()), slog.LevelDebug)
	b := newBrowser(t)
	authURL := b.StartSignIn(app.URL, "cognito", "/protected")
	cb := b.DevLogin(b.Get(authURL), "ada")
	code := testkit.MustQuery(t, location(t, cb)).Get("code")
	b.Get(location(t, cb))
	b.Session(app.URL)
	token := b.sessionToken(app)
	ctx := context.Background()
	s, err := core(app.BFF).Sessions().Load(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{token, code, s.Data.Tokens.AccessToken, s.Data.Tokens.RefreshToken, s.Data.Tokens.IDToken}
	if r := b.ProxyGet(app.URL + "/api/proxy/demo/me"); r.StatusCode != 200 {
		t.Fatalf("proxy: %d %s", r.StatusCode, r.Body)
	}
	s2, err := core(app.BFF).ForceRefresh(ctx, token, s)
	if err != nil || s2 == nil {
		t.Fatalf("refresh: %v", err)
	}
	secrets = append(secrets, s2.Data.Tokens.AccessToken, s2.Data.Tokens.IDToken)
	out := b.PostForm(app.URL+"/api/auth/signout", url.Values{"csrfToken": {b.CSRF(app.URL)}, "json": {"true"}})
	if out.StatusCode != 200 {
		t.Fatalf("signout: %d", out.StatusCode)
	}
	app.Close()

	text := logs.String()
	if !strings.Contains(text, "signed in") || !strings.Contains(text, "tokens refreshed") {
		t.Fatalf("the logs do not show the journey (wrong level?):\n%s", text)
	}
	for _, sec := range secrets {
		if sec == "" {
			t.Fatal("a token of the journey is empty")
		}
		// The whole value, and for JWTs their signature part alone.
		probes := []string{sec}
		if parts := strings.Split(sec, "."); len(parts) == 3 {
			probes = append(probes, parts[2])
		}
		for _, p := range probes {
			if strings.Contains(text, p) {
				t.Fatalf("a secret (%d chars) appears in the logs", len(sec))
			}
		}
	}
}
