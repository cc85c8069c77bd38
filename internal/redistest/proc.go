package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is one redis-server process (a data node or a Sentinel) on a fixed
// loopback port, which it keeps across restarts.
type proc struct {
	bin  string
	args []string // without --port
	port int
	out  *syncBuffer

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when cmd has exited
	paused bool
}

func (p *proc) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// launch starts the process and waits until it answers PING. On error the
// process is already stopped.
func (p *proc) launch() error {
	cmd := exec.Command(p.bin, append(append([]string(nil), p.args...), "--port", strconv.Itoa(p.port))...)
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("exec %s: %w", p.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	p.mu.Lock()
	p.cmd, p.done, p.paused = cmd, done, false
	p.mu.Unlock()

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-done:
			p.stop()
			return fmt.Errorf("redis-server exited early (port %d taken?)", p.port)
		default:
		}
		if err := ping(p.addr()); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			p.stop()
			return fmt.Errorf("no PONG from %s within %s: %w", p.addr(), startTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop terminates the process, if any (SIGTERM-like interrupt, then SIGKILL
// after 5 s), and waits for it to exit.
func (p *proc) stop() {
	p.mu.Lock()
	cmd, done, paused := p.cmd, p.done, p.paused
	p.cmd, p.done, p.paused = nil, nil, false
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	if paused {
		_ = cmd.Process.Signal(syscall.SIGCONT)
	}
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// kill sends SIGKILL (no shutdown, no goodbye to peers) and waits for the exit.
func (p *proc) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd, p.done, p.paused = nil, nil, false
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// signal sends SIGSTOP or SIGCONT to the running process.
func (p *proc) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return errors.New("not running")
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return err
	}
	p.paused = sig == syscall.SIGSTOP
	return nil
}

func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

// startProcs launches n processes with the arguments argsFor gives for
// each one's own empty directory and port (retrying a few times when a port
// is taken meanwhile) and stops them all at cleanup, before their
// directories are removed. withBus also reserves port+10000, the Cluster
// bus port.
func startProcs(t testing.TB, bin string, withBus bool, out *syncBuffer, argsFor func(dir string, port int) []string, n int) []*proc {
	t.Helper()
	base := t.TempDir()
	ps := make([]*proc, n)
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, p := range ps {
			if p != nil {
				wg.Add(1)
				go func() { defer wg.Done(); p.stop() }()
			}
		}
		wg.Wait()
	})
	for i := range ps {
		dir, err := os.MkdirTemp(base, "")
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		for attempt := 0; ; attempt++ {
			port := freePort(t, withBus)
			p := &proc{bin: bin, args: argsFor(dir, port), port: port, out: out}
			err := p.launch()
			if err == nil {
				ps[i] = p
				break
			}
			if attempt == 2 {
				t.Fatalf("redistest: start %s: %v", bin, err)
			}
		}
	}
	return ps
}

// lookBin returns the path of a Redis program or fails t.
func lookBin(t testing.TB, name, pkg string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not installed: %v; install it (apt-get install %s)", name, err, pkg)
	}
	return bin
}

// freePort returns a loopback port nobody listens on. With bus, the port is
// below the kernel's ephemeral range and port+10000 is free too.
func freePort(t testing.TB, bus bool) int {
	t.Helper()
	if !bus {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("redistest: find a free port: %v", err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	for range 100 {
		port := 10000 + rand.IntN(12000)
		a, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		b, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000)))
		a.Close()
		if err != nil {
			continue
		}
		b.Close()
		return port
	}
	t.Fatal("redistest: no free port pair for a Cluster node")
	return 0
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
