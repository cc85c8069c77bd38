// Package pgtest runs real PostgreSQL servers for tests.
//
// Start makes a throwaway cluster with initdb in a temporary directory and
// runs it with pg_ctl on a free loopback port (no fsync, trust
// authentication, TCP only), stopped and removed when the test ends. The
// binaries are found on PATH, else under /usr/lib/postgresql/<version>/bin
// (Debian's postgresql package), else in the directory PG_BIN names. initdb
// and postgres refuse to run as root: when the test runs as root, the
// cluster belongs to the user postgres (made by Debian's package) and the
// commands run as that user through runuser.
//
// Stop (pg_ctl stop -m fast) and Restart keep the data, so a test can take
// the server away and bring it back on the same port.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// startTimeout bounds how long the server may take to start or stop.
const startTimeout = 30 * time.Second

// SkipShort skips t under `go test -short`, the fast lane that runs without
// external servers: Start calls it. Without -short a missing PostgreSQL is
// a failure, never a skip.
func SkipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL (skipped by -short)")
	}
}

// Server is a PostgreSQL cluster reserved for one test.
type Server struct {
	// URL is the server's database as a postgres:// URL (user postgres,
	// database postgres, sslmode=disable).
	URL  string
	Port int

	t     testing.TB
	bin   string
	data  string
	log   string
	runAs string // "" or the user to run the binaries as
	mu    sync.Mutex
	up    bool
}

// Start returns a running PostgreSQL server for t, stopped and removed in
// t.Cleanup. It fails t (never skips) when the PostgreSQL binaries are not
// installed or the server does not start; under -short it skips t.
func Start(t testing.TB) *Server {
	SkipShort(t)
	t.Helper()
	bin, err := binDir()
	if err != nil {
		t.Fatalf("pgtest: %v; install PostgreSQL (apt-get install postgresql) or set PG_BIN", err)
	}
	s := &Server{t: t, bin: bin, Port: freePort(t)}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	s.data, s.log = filepath.Join(dir, "data"), filepath.Join(dir, "server.log")
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("pgtest: running as root, and there is no user postgres to run PostgreSQL as (initdb refuses root): %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.runAs = "postgres"
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
	}
	if out, err := s.run("initdb", "-D", s.data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		t.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
	conf := strings.Join([]string{
		"listen_addresses = '127.0.0.1'",
		"port = " + strconv.Itoa(s.Port),
		"unix_socket_directories = ''",
		"fsync = off",
		"synchronous_commit = off",
		"full_page_writes = off",
		"max_connections = 300",
		"shared_buffers = 32MB",
		"log_min_messages = warning",
		"",
	}, "\n")
	f, err := os.OpenFile(filepath.Join(s.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		f.Close()
	}
	if err != nil {
		t.Fatalf("pgtest: configure: %v", err)
	}
	s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(s.log); err == nil {
				t.Logf("postgres log (last 4 KiB):\n%s", tail(b, 4096))
			}
		}
		s.Stop()
	})
	s.Restart()
	return s
}

// URLWith returns URL with extra query parameters (e.g. "schema=x"),
// given as "k=v" strings.
func (s *Server) URLWith(params ...string) string {
	return s.URL + "&" + strings.Join(params, "&")
}

// Stop stops the server with pg_ctl stop -m fast (connections are closed,
// data kept) and waits until it has exited. Stopping a stopped server does
// nothing.
func (s *Server) Stop() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.up {
		return
	}
	if out, err := s.run("pg_ctl", "stop", "-D", s.data, "-m", "fast", "-w", "-t", strconv.Itoa(int(startTimeout/time.Second))); err != nil {
		s.t.Errorf("pgtest: pg_ctl stop: %v\n%s", err, out)
	}
	s.up = false
}

// Restart starts the server again (stopping it first if it runs) on the
// same port with the data it had, and waits until it accepts connections.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if out, err := s.run("pg_ctl", "start", "-D", s.data, "-l", s.log, "-w", "-t", strconv.Itoa(int(startTimeout/time.Second))); err != nil {
		b, _ := os.ReadFile(s.log)
		s.t.Fatalf("pgtest: pg_ctl start: %v\n%s\n%s", err, out, tail(b, 4096))
	}
	s.up = true
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		c, err := pgx.Connect(ctx, s.URL)
		if err == nil {
			_ = c.Close(ctx)
			return
		}
		if ctx.Err() != nil {
			s.t.Fatalf("pgtest: the server does not accept connections: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Exec runs sql (with args) on a fresh connection and returns how many
// rows it affected or returned, failing the test on error.
func (s *Server) Exec(sql string, args ...any) int64 {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		s.t.Fatalf("pgtest: connect: %v", err)
	}
	defer c.Close(ctx)
	tag, err := c.Exec(ctx, sql, args...)
	if err != nil {
		s.t.Fatalf("pgtest: %s: %v", sql, err)
	}
	return tag.RowsAffected()
}

// run runs one of the server's binaries (as the postgres user when the
// test runs as root) and returns its combined output.
func (s *Server) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd.CombinedOutput()
}

// binDir finds the directory holding initdb, pg_ctl and postgres.
func binDir() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		return d, checkBins(d)
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if d := filepath.Dir(p); checkBins(d) == nil {
			return d, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if checkBins(d) == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("initdb, pg_ctl and postgres not found on PATH nor under /usr/lib/postgresql/*/bin")
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func checkBins(dir string) error {
	for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return err
		}
	}
	return nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pgtest: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
