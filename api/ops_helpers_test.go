package api

import (
	"bytes"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// opsLog is a goroutine-safe log sink for the start-up tests.
type opsLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *opsLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *opsLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor polls the log until it contains s or timeout passes.
func (l *opsLog) waitFor(s string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(l.String(), s) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return strings.Contains(l.String(), s)
}

// logger logs at debug to l and the test output.
func (l *opsLog) logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(&teeWriter{l, t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type teeWriter struct {
	l *opsLog
	t *testing.T
}

func (w *teeWriter) Write(p []byte) (int, error) {
	_, _ = w.t.Output().Write(p)
	return w.l.Write(p)
}

// opsFreePort returns a loopback port that was free a moment ago.
func opsFreePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// opsStartServer runs New and Run exactly as the binary does (New listens on
// PORT/HOST itself), with env as the whole environment, logging to a new
// opsLog.
func opsStartServer(t *testing.T, env map[string]string) (*testApp, *opsLog) {
	t.Helper()
	logs := &opsLog{}
	m, err := New(Options{Source: envSource(env, t.TempDir()), Logger: logs.logger(t)})
	if err != nil {
		t.Fatalf("New: %v\nlogs:\n%s", err, logs)
	}
	return runMain(t, m), logs
}
