package bff_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/devidp/devidptest"
)

// TestSignOutRacedByPollers is issue 19's "sign-out is final once it has
// answered": 48 clients poll GET /api/auth/session with one cookie while it
// signs out; no request sent after the sign-out answered may be answered
// signed in. 10 trials on the default bolt store and on memory (each with
// the session cache on, its default).
func TestSignOutRacedByPollers(t *testing.T) {
	for _, store := range []string{"bolt", "memory"} {
		t.Run(store, func(t *testing.T) {
			spec := "memory"
			if store == "bolt" {
				spec = "bolt:" + filepath.Join(t.TempDir(), "sessions.db")
			}
			app := startApp(t, map[string]string{"NEXTAUTH_URL": "auto", "SESSION_STORE": spec,
				"NEXTAUTH_SECRET": strings.Repeat("poll-secret-", 3)})
			for trial := range 10 {
				if n := pollDuringSignOut(t, app.URL); n != 0 {
					t.Fatalf("trial %d: %d signed-in answers to requests sent after the sign-out answered", trial, n)
				}
			}
		})
	}
}

// pollDuringSignOut signs ada in, has 48 clients poll her session, signs
// her out, and returns how many requests begun after the sign-out's answer
// were answered signed in.
func pollDuringSignOut(t *testing.T, base string) int64 {
	t.Helper()
	c := finalClientFor()
	if _, err := devidptest.SignIn(c, base, "/", "ada"); err != nil {
		t.Fatal(err)
	}
	token := sessionToken(t, c, base)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	poll := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var answered atomic.Int64 // UnixNano when the sign-out answered; 0 before
	var late, reads atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 48 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				sent := time.Now().UnixNano()
				req, _ := http.NewRequest(http.MethodGet, base+"/api/auth/session", nil)
				req.AddCookie(&http.Cookie{Name: "next-auth.session-token", Value: token})
				resp, err := poll.Do(req)
				if err != nil {
					continue
				}
				var v map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&v)
				resp.Body.Close()
				reads.Add(1)
				if at := answered.Load(); at != 0 && sent > at && v["user"] != nil {
					late.Add(1)
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	resp, err := c.Get(base + "/api/auth/csrf")
	if err != nil {
		t.Fatal(err)
	}
	var csrf struct{ CsrfToken string }
	_ = json.NewDecoder(resp.Body).Decode(&csrf)
	resp.Body.Close()
	resp, err = c.PostForm(base+"/api/auth/signout", url.Values{"csrfToken": {csrf.CsrfToken}, "json": {"true"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-out: %v %v", resp, err)
	}
	resp.Body.Close()
	answered.Store(time.Now().UnixNano())
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if reads.Load() < 48 {
		t.Fatalf("only %d reads: the pollers did not poll", reads.Load())
	}
	return late.Load()
}
