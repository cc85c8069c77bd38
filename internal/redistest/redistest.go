// Package redistest runs real Redis servers for tests.
//
// Start launches a throwaway redis-server (no persistence, loopback only) on a
// free port and stops it when the test ends. When the environment variable
// REDIS_URL is set, Start uses that server instead and isolates the test by a
// random key prefix; Stop, Restart, SigStop and SigCont then fail the test,
// since they need a server the test owns.
//
// StartCluster (a 6-node Redis Cluster) and StartSentinel (a master, two
// replicas and three Sentinels) always run their own processes, with short
// fail-over timeouts, for tests of a master's death (KillMaster, then
// WaitPromoted).
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"syscall"
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
	p        *proc
}

// SkipShort skips t under `go test -short`, the fast lane that runs without
// external servers: every starter here calls it. Without -short a missing
// redis-server is a failure, never a skip.
func SkipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs redis-server (skipped by -short)")
	}
}

// Start returns a Redis server for t, stopped (or, with REDIS_URL, cleaned of
// the test's keys) in t.Cleanup. It fails t (never skips) when redis-server is
// not installed and REDIS_URL is unset, or when the server does not answer PING.
// Under -short it skips t (SkipShort).
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWithOptions(t, Options{})
}

// StartWithOptions is Start with options (see Options).
func StartWithOptions(t testing.TB, o Options) *Server {
	SkipShort(t)
	t.Helper()
	s := &Server{t: t, Prefix: "test:" + randomHex(t, 8) + ":"}
	if u := os.Getenv("REDIS_URL"); u != "" {
		s.startExternal(u)
		if len(o.Args) > 0 {
			s.requireLocal("Options.Args")
		}
		return s
	}
	bin := lookBin(t, "redis-server", "redis-server")
	out := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("redis-server output:\n%s", out.String())
		}
	})
	aof := "no"
	if o.Persist {
		aof = "yes"
	}
	s.p = startProcs(t, bin, false, out, func(dir string, _ int) []string {
		return append([]string{"--save", "", "--appendonly", aof, "--appendfsync", "always", "--bind", "127.0.0.1", "--dir", dir}, o.Args...)
	}, 1)[0]
	s.URL = fmt.Sprintf("redis://%s/0", s.p.addr())
	return s
}

// Stop stops the server (SIGTERM, then SIGKILL) and waits until it has exited;
// its data is lost. Stopping a stopped server does nothing. It fails the test
// when the server comes from REDIS_URL.
func (s *Server) Stop() {
	s.t.Helper()
	s.requireLocal("Stop")
	s.p.stop()
}

// Restart stops the server if it runs and starts it again on the same port
// with an empty data set (or, with Options.Persist, the data it had), waiting
// until it answers PING. It fails the test when the server comes from
// REDIS_URL or does not come back.
func (s *Server) Restart() {
	s.t.Helper()
	s.requireLocal("Restart")
	s.p.stop()
	if err := s.p.launch(); err != nil {
		s.t.Fatalf("redistest: restart redis-server on port %d: %v", s.p.port, err)
	}
}

// SigStop freezes the server with SIGSTOP: connections are still accepted
// by the kernel but nothing is answered, like a hung host. SigCont resumes
// it; a frozen server is resumed before it is stopped at cleanup. Both fail
// the test when the server comes from REDIS_URL or is not running.
func (s *Server) SigStop() {
	s.t.Helper()
	s.requireLocal("SigStop")
	if err := s.p.signal(syscall.SIGSTOP); err != nil {
		s.t.Fatalf("redistest: SIGSTOP: %v", err)
	}
}

// SigCont resumes a server frozen by SigStop.
func (s *Server) SigCont() {
	s.t.Helper()
	s.requireLocal("SigCont")
	if err := s.p.signal(syscall.SIGCONT); err != nil {
		s.t.Fatalf("redistest: SIGCONT: %v", err)
	}
}

func (s *Server) requireLocal(op string) {
	s.t.Helper()
	if s.external {
		s.t.Fatalf("redistest: %s needs a local redis-server the test owns; unset REDIS_URL (currently %q) and install redis-server", op, os.Getenv("REDIS_URL"))
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

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("redistest: random prefix: %v", err)
	}
	return hex.EncodeToString(b)
}
