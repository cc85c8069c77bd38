package bff_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/authbff/authbff/internal/redistest"
)

// wsEcho is a WebSocket upstream (github.com/coder/websocket) that echoes
// messages and records each handshake's Authorization header.
type wsEcho struct {
	srv  *httptest.Server
	mu   sync.Mutex
	Auth []string
}

func newWSEcho(t *testing.T) *wsEcho {
	e := &wsEcho{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.Auth = append(e.Auth, r.Header.Get("Authorization"))
		e.mu.Unlock()
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, msg); err != nil {
				return
			}
		}
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *wsEcho) seen() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.Auth...)
}

// wsDial opens a WebSocket to app's proxy path with br's cookies and origin.
func wsDial(t *testing.T, br *provBrowser, app *provApp, path, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hc := &http.Client{Jar: br.hc.Jar}
	u := "ws" + strings.TrimPrefix(app.URL, "http") + "/api/proxy/" + path
	return websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: hc, HTTPHeader: http.Header{"Origin": {origin}}})
}

// signOut signs br out at app as next-auth/react does.
func wsSignOut(t *testing.T, br *provBrowser, app *provApp) {
	t.Helper()
	_, body := br.get(app.URL + "/api/auth/csrf")
	var csrf struct{ CSRFToken string }
	_ = json.Unmarshal(body, &csrf)
	req, _ := http.NewRequest(http.MethodPost, app.URL+"/api/auth/signout",
		strings.NewReader(url.Values{"csrfToken": {csrf.CSRFToken}, "json": {"true"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", app.URL)
	if resp, body := br.do(req); resp.StatusCode != http.StatusOK {
		t.Fatalf("signout: %d %s", resp.StatusCode, body)
	}
}

// wsSessionToken is the access token the session holds (what the proxy sends).
func wsEchoRoundTrip(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	_, got, err := c.Read(ctx)
	if err != nil || string(got) != msg {
		t.Fatalf("echo of %d bytes = %d bytes, %v", len(msg), len(got), err)
	}
}

// wsWaitClosed reads until the socket closes and returns the close code
// and how long it took.
func wsWaitClosed(c *websocket.Conn, within time.Duration) (websocket.StatusCode, time.Duration) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return -2, time.Since(start)
			}
			return websocket.CloseStatus(err), time.Since(start)
		}
	}
}

// TestProxyWebSocket: with UPSTREAM_WS_WEBSOCKET=1 a WebSocket from the
// app's origin with the session cookie opens, the upstream sees the
// user's bearer token and messages echo; another origin (403) or no
// session (401) never reaches the upstream; after sign-out on the OTHER
// instance (two instances on one Redis) the open socket is closed with
// 4401 within 5 s.
func TestProxyWebSocket(t *testing.T) {
	redistest.SkipShort(t)
	srv := redistest.Start(t)
	as := newRSAS(t)
	echo := newWSEcho(t)
	env := mergeEnv(as.env(), map[string]string{
		"SESSION_STORE": srv.URL, "UPSTREAM_WS": echo.srv.URL, "UPSTREAM_WS_WEBSOCKET": "1",
	})
	app1, app2 := startProv(t, env), startProv(t, env)

	anon := newProvBrowser(t)
	if _, resp, err := wsDial(t, anon, app1, "ws/live", app1.URL); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a session: %v %v, want 401", resp, err)
	}
	br := newProvBrowser(t)
	br.signIn(app1, "okta", nil)
	if _, resp, err := wsDial(t, br, app1, "ws/live", "https://evil.example"); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("from another origin: %v %v, want 403", resp, err)
	}
	if n := len(echo.seen()); n != 0 {
		t.Fatalf("refused upgrades reached the upstream %d times", n)
	}
	c, _, err := wsDial(t, br, app1, "ws/live", app1.URL)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	wsEchoRoundTrip(t, c, "hello")
	wsEchoRoundTrip(t, c, strings.Repeat("x", 70000)) // a long frame (64-bit length)
	auth := echo.seen()
	cl := jwtClaims(strings.TrimPrefix(auth[0], "Bearer "))
	if len(auth) != 1 || !strings.HasPrefix(auth[0], "Bearer ") || cl["sub"] != "alice" || cl["aud"] != rsClientID {
		t.Fatalf("upstream saw Authorization %q (claims %v), want the user's bearer token", auth, cl)
	}
	// Sign out on the other instance.
	wsSignOut(t, br, app2)
	code, took := wsWaitClosed(c, 8*time.Second)
	if code != 4401 && code != websocket.StatusPolicyViolation {
		t.Fatalf("after sign-out elsewhere the socket ended with %d after %s, want close 4401 or 1008", code, took)
	}
	if took > 5*time.Second {
		t.Fatalf("closed after %s, want within 5 s", took)
	}
}

// TestProxyWebSocketOff: an upstream without UPSTREAM_<NAME>_WEBSOCKET
// refuses an upgrade as any request without X-CSRF (401), the upstream
// never reached; and Close drains open sockets with 1001.
func TestProxyWebSocketOffAndDrain(t *testing.T) {
	as := newRSAS(t)
	echo := newWSEcho(t)
	app := startProv(t, mergeEnv(as.env(), map[string]string{
		"UPSTREAM_PLAIN": echo.srv.URL,
		"UPSTREAM_WS":    echo.srv.URL, "UPSTREAM_WS_WEBSOCKET": "1",
	}))
	br := newProvBrowser(t)
	br.signIn(app, "okta", nil)
	if _, resp, err := wsDial(t, br, app, "plain/x", app.URL); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("upgrade to a plain upstream: %v %v, want 401", resp, err)
	}
	if len(echo.seen()) != 0 {
		t.Fatal("the plain upstream was reached by an upgrade")
	}
	c, _, err := wsDial(t, br, app, "ws/x", app.URL)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	wsEchoRoundTrip(t, c, "hi")
	go app.BFF.Close()
	if code, took := wsWaitClosed(c, 8*time.Second); code != websocket.StatusGoingAway {
		t.Fatalf("on Close the socket ended with %d after %s, want 1001", code, took)
	}
}
