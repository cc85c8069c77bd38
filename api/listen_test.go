package api

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"testing"
	"time"
)

// TestDevIdPListensOnLoopbackOnly (issue 10 #3): with the dev IdP and no
// HOST the binary listens on 127.0.0.1 only (the library's side, the dev
// IdP refusing foreign Hosts, is bff's TestDevIdPIsLoopbackOnly).
func TestDevIdPListensOnLoopbackOnly(t *testing.T) {
	env := map[string]string{"SESSION_STORE": "memory", "PORT": "0", "AUTHBFF_DATA_DIR": t.TempDir(), "METRICS_ADDR": ""}
	m, err := New(Options{Source: envSource(env, t.TempDir()), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if a := m.listener.Addr().(*net.TCPAddr); !a.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("dev IdP mode listens on %s, want 127.0.0.1", a)
	}
}

// TestTricklingBodyIsCutOff (issue 10 #2): a body sent one byte at a time is
// cut off within HTTP_READ_TIMEOUT, while a normal request is still served,
// with HTTP_MAX_CONNECTIONS bounding the connections.
func TestTricklingBodyIsCutOff(t *testing.T) {
	app := startApp(t, map[string]string{"SESSION_STORE": "memory", "HTTP_READ_TIMEOUT": "1s", "HTTP_MAX_CONNECTIONS": "8"})
	u, _ := url.Parse(app.URL)
	type result struct {
		took time.Duration
		err  error
	}
	const trickles = 4
	done := make(chan result, trickles)
	for range trickles {
		go func() {
			start := time.Now()
			conn, err := net.Dial("tcp", u.Host)
			if err != nil {
				done <- result{err: err}
				return
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST /api/auth/signin/cognito HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n", u.Host)
			closed := make(chan struct{})
			go func() {
				_, _ = io.Copy(io.Discard, bufio.NewReader(conn)) // until the server closes
				close(closed)
			}()
			for i := 0; i < 25; i++ { // 5 s at most
				select {
				case <-closed:
					done <- result{took: time.Since(start)}
					return
				case <-time.After(200 * time.Millisecond):
				}
				if _, err := conn.Write([]byte("a")); err != nil {
					done <- result{took: time.Since(start)}
					return
				}
			}
			done <- result{took: time.Since(start), err: fmt.Errorf("the server kept the trickling connection open")}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if r := newBrowser(t).Get(app.URL + "/api/auth/csrf"); r.StatusCode != 200 {
		t.Fatalf("a normal request during the trickle: %d", r.StatusCode)
	}
	for range trickles {
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.took > 3*time.Second {
			t.Errorf("a trickling body held its connection for %s (HTTP_READ_TIMEOUT=1s)", r.took)
		}
	}
}
