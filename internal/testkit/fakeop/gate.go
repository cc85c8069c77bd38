package fakeop

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Gate is a loopback server in front of an IdP's handler (typically the
// development IdP, which then takes Gate's URL as its BaseURL) that
// watches and shapes its token endpoint: it records every token handed
// out, counts refresh grants, can delay them, fail them like an outage,
// or serve them and hold the answer back, and can shorten the sign-in
// tokens' expires_in. Everything else passes through.
type Gate struct {
	// Srv is the gate's server; its URL is the IdP's base URL.
	Srv *httptest.Server
	// TokenPath is the token endpoint's path (/oauth2/token by default).
	TokenPath string
	// SignInLifetime, when above zero, replaces expires_in (seconds) in
	// the authorization code grant's answers.
	SignInLifetime int

	// Attempts counts the refresh grants received.
	Attempts atomic.Int32
	// Down answers 503 to refresh grants (an outage).
	Down atomic.Bool
	// Delay (ns) is waited before a refresh grant is served.
	Delay atomic.Int64
	// Late (ns), when set, serves a refresh grant at once (the IdP issues
	// and rotates) and holds its answer back that long; Held counts them.
	Late atomic.Int64
	Held atomic.Int32

	mu     sync.Mutex
	h      http.Handler
	issued []string // every access, refresh and ID token handed out
}

// NewGate starts a Gate; Serve names the handler behind it. It stops when
// the test ends.
func NewGate(t testing.TB) *Gate {
	t.Helper()
	g := &Gate{TokenPath: "/oauth2/token"}
	g.Srv = httptest.NewServer(http.HandlerFunc(g.serveHTTP))
	t.Cleanup(g.Srv.Close)
	return g
}

// Serve puts h behind the gate.
func (g *Gate) Serve(h http.Handler) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.h = h
}

// Issued returns every token string handed out so far.
func (g *Gate) Issued() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.issued...)
}

func (g *Gate) serveHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	h := g.h
	g.mu.Unlock()
	if r.URL.Path != g.TokenPath {
		h.ServeHTTP(w, r)
		return
	}
	_ = r.ParseForm()
	form := r.PostForm.Encode()
	r.Body, r.ContentLength = io.NopCloser(strings.NewReader(form)), int64(len(form))
	grant := r.PostForm.Get("grant_type")
	if grant == "refresh_token" {
		g.Attempts.Add(1)
		time.Sleep(time.Duration(g.Delay.Load()))
		if g.Down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	var v map[string]any
	if rec.Code == http.StatusOK && json.Unmarshal(body, &v) == nil {
		g.mu.Lock()
		for _, k := range []string{"access_token", "refresh_token", "id_token"} {
			if s, _ := v[k].(string); s != "" {
				g.issued = append(g.issued, s)
			}
		}
		g.mu.Unlock()
		if grant == "authorization_code" && g.SignInLifetime > 0 {
			v["expires_in"] = g.SignInLifetime
			body, _ = json.Marshal(v)
		}
	}
	if late := g.Late.Load(); late > 0 && grant == "refresh_token" {
		g.Held.Add(1)
		time.Sleep(time.Duration(late))
	}
	for k, vs := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = vs
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}
