// Package redistest runs a real redis-server for tests.
//
// Start launches a throwaway redis-server (no persistence, loopback only) on a
// free port and stops it when the test ends. When the environment variable
// REDIS_URL is set, Start uses that server instead and isolates the test by a
// random key prefix; Stop and Restart then fail the test, since they need a
// server the test owns.
package redistest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startTimeout bounds how long a redis-server may take to answer PING.
const startTimeout = 10 * time.Second

// Server is a Redis server reserved for one test.
type Server struct {
	// URL is the server's address as a redis:// URL, e.g. redis://127.0.0.1:N/0.
	URL string
	// Prefix is a key prefix unique to this test (ends with ":"); tests must
	// put every key they write under it.
	Prefix string

	t        testing.TB
	external bool
	bin      string
	port     int
	dir      string
	persist  bool

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	out  *syncBuffer   // redis-server's stdout and stderr, for failure reports
}

// Start returns a Redis server for t, stopped (or, with REDIS_URL, cleaned of
// the test's keys) in t.Cleanup. It fails t (never skips) when redis-server is
// not installed and REDIS_URL is unset, or when the server does not answer PING.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWithOptions(t, Options{})
}

// StartWithOptions is Start with options (see Options).
func StartWithOptions(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{t: t, Prefix: "test:" + randomHex(t, 8) + ":", persist: o.Persist}
	if u := os.Getenv("REDIS_URL"); u != "" {
		s.startExternal(u)
		return s
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not installed: %v; install it (apt-get install redis-server) or set REDIS_URL to a server the tests may use", err)
	}
	s.bin = bin
	s.dir = t.TempDir()
	s.out = &syncBuffer{}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("redis-server output:\n%s", s.out.String())
		}
	})
	// Another process may take the free port between Listen and redis-server's
	// bind; try a few ports before giving up.
	for attempt := 0; ; attempt++ {
		s.port = freePort(t)
		s.URL = fmt.Sprintf("redis://127.0.0.1:%d/0", s.port)
		err = s.launch()
		if err == nil {
			return s
		}
		if attempt == 2 {
			t.Fatalf("redistest: start redis-server: %v", err)
		}
	}
}

// Stop stops the server (SIGTERM, then SIGKILL) and waits until it has exited;
// its data is lost. Stopping a stopped server does nothing. It fails the test
// when the server comes from REDIS_URL.
func (s *Server) Stop() {
	s.t.Helper()
	s.requireLocal("Stop")
	s.stop()
}

// Restart stops the server if it runs and starts it again on the same port
// with an empty data set (or, with Options.Persist, the data it had), waiting until it answers PING. It fails the test when
// the server comes from REDIS_URL or does not come back.
func (s *Server) Restart() {
	s.t.Helper()
	s.requireLocal("Restart")
	s.stop()
	if err := s.launch(); err != nil {
		s.t.Fatalf("redistest: restart redis-server on port %d: %v", s.port, err)
	}
}

func (s *Server) requireLocal(op string) {
	s.t.Helper()
	if s.external {
		s.t.Fatalf("redistest: %s needs a local redis-server the test owns; unset REDIS_URL (currently %q) and install redis-server", op, os.Getenv("REDIS_URL"))
	}
}

// launch starts redis-server on s.port and waits for PING. On error the
// process is already stopped.
func (s *Server) launch() error {
	aof := "no"
	if s.persist {
		aof = "yes"
	}
	cmd := exec.Command(s.bin,
		"--save", "",
		"--appendonly", aof,
		"--appendfsync", "always",
		"--bind", "127.0.0.1",
		"--port", strconv.Itoa(s.port),
		"--dir", s.dir,
	)
	cmd.Stdout = s.out
	cmd.Stderr = s.out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("exec %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-done:
			s.stop()
			return fmt.Errorf("redis-server exited early (port %d taken?)", s.port)
		default:
		}
		if err := ping(addr); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("no PONG from %s within %s: %w", addr, startTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop terminates the process, if any, and waits for it to exit.
func (s *Server) stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// startExternal checks the server at u and deletes the test's keys afterwards.
func (s *Server) startExternal(u string) {
	t := s.t
	t.Helper()
	s.external = true
	s.URL = u
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("redistest: REDIS_URL %q: %v", u, err)
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Fatalf("redistest: REDIS_URL %q does not answer PING: %v", u, err)
	}
	t.Cleanup(func() {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		// SCAN, never KEYS: the server may be shared.
		iter := c.Scan(ctx, 0, s.Prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.Unlink(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Logf("redistest: clean keys under %q: %v", s.Prefix, err)
		}
	})
}

// ping sends one inline PING and expects +PONG.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return errors.New("unexpected reply " + strconv.Quote(line))
	}
	return nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("redistest: random prefix: %v", err)
	}
	return hex.EncodeToString(b)
}

// syncBuffer is a bytes.Buffer safe for the writer goroutines of exec.Cmd and
// the reader in Cleanup.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
