package bff_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestProxyEventStreamEndsWithSession: a server-sent events stream through
// the proxy streams as before, and ends within 5 s of a sign-out. Without
// a token policy (UPSTREAM_<NAME> alone) the behaviour is the same.
func TestProxyEventStreamEndsWithSession(t *testing.T) {
	as := newRSAS(t)
	sse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(w, "data: %d\n\n", i); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}))
	defer sse.Close()
	app := startProv(t, mergeEnv(as.env(), map[string]string{"UPSTREAM_EV": sse.URL}))
	br := newProvBrowser(t)
	br.signIn(app, "okta", nil)
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/proxy/ev/stream", nil)
	req.Header.Set("X-CSRF", "1")
	req.Header.Set("Origin", app.URL)
	hc := &http.Client{Jar: br.hc.Jar}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	for i := 0; i < 3; i++ {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		if i == 0 && !strings.HasPrefix(line, "data: 0") {
			t.Fatalf("first line %q", line)
		}
	}
	wsSignOut(t, br, app)
	start := time.Now()
	done := make(chan struct{})
	go func() {
		for {
			if _, err := rd.ReadString('\n'); err != nil {
				close(done)
				return
			}
		}
	}()
	select {
	case <-done:
		t.Logf("stream ended %s after the sign-out", time.Since(start).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream still runs 5 s after the sign-out")
	}
}
