package api

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
)

// raiseFileLimit makes room for n more open files, or fails the test.
func raiseFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	if lim.Cur >= n {
		return
	}
	want := lim
	want.Cur = n
	if want.Max < n {
		want.Max = n
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		t.Fatalf("this test needs %d open files (RLIMIT_NOFILE is %d, hard %d) and cannot raise it: %v; run it with ulimit -n %d",
			n, lim.Cur, lim.Max, err, n)
	}
}

// TestIdleConnectionsDoNotStarveNewOnes (issue 19): with the defaults, one
// client holding HTTP_MAX_CONNECTIONS (default 4096) idle keep-alive
// connections, each after one complete request, does not stop the server
// from answering a new client at once.
func TestIdleConnectionsDoNotStarveNewOnes(t *testing.T) {
	app := startAppWith(t, map[string]string{}, "127.0.0.1:0", io.Discard, slog.LevelWarn)
	idle := app.Main.listen.MaxConnections
	if idle != bff.DefaultMaxConnections {
		t.Fatalf("the default HTTP_MAX_CONNECTIONS is %d, bff.DefaultMaxConnections %d", idle, bff.DefaultMaxConnections)
	}
	// Both ends of every connection live in this process.
	raiseFileLimit(t, uint64(2*idle+1024))
	addr := mustURL(t, app.URL).Host

	conns := make(chan net.Conn, idle)
	t.Cleanup(func() {
		close(conns)
		for c := range conns {
			c.Close()
		}
	})
	var wg sync.WaitGroup
	errs := make(chan error, idle)
	jobs := make(chan struct{}, idle)
	for range idle {
		jobs <- struct{}{}
	}
	close(jobs)
	start := time.Now()
	for range 64 {
		wg.Go(func() {
			for range jobs {
				c, err := keepAliveSession(addr)
				if err != nil {
					errs <- err
					return
				}
				conns <- c
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("opening the idle connections: %v", err)
	}
	t.Logf("%d keep-alive connections opened and left idle in %s", idle, time.Since(start).Round(time.Millisecond))

	c := &http.Client{Transport: &http.Transport{}, Timeout: 2 * time.Second}
	defer c.CloseIdleConnections()
	start = time.Now()
	resp, err := c.Get(app.URL + "/api/auth/session")
	if err != nil {
		t.Fatalf("a new client was not answered within 2 s while %d idle connections were held: %v", idle, err)
	}
	resp.Body.Close()
	t.Logf("the new client was answered %d in %s", resp.StatusCode, time.Since(start).Round(time.Microsecond))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/auth/session: %d", resp.StatusCode)
	}
}

// keepAliveSession connects to addr, completes one GET /api/auth/session
// and returns the connection, left open and idle.
func keepAliveSession(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, "GET /api/auth/session HTTP/1.1\r\nHost: "+addr+"\r\n\r\n"); err != nil {
		c.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.SetDeadline(time.Time{})
	return c, nil
}
