package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Node is one redis-server process of a Cluster or a Sentinel group.
type Node struct {
	// Addr is the node's host:port on loopback.
	Addr string

	t testing.TB
	p *proc
}

// Kill sends SIGKILL (the process dies at once, telling nobody) and waits
// for it to exit. Killing a dead node does nothing.
func (n *Node) Kill() {
	n.t.Helper()
	n.p.kill()
}

// SigStop freezes the node (SIGSTOP): its port still accepts connections but
// nothing is answered.
func (n *Node) SigStop() {
	n.t.Helper()
	if err := n.p.signal(syscall.SIGSTOP); err != nil {
		n.t.Fatalf("redistest: SIGSTOP %s: %v", n.Addr, err)
	}
}

// SigCont resumes a node frozen by SigStop.
func (n *Node) SigCont() {
	n.t.Helper()
	if err := n.p.signal(syscall.SIGCONT); err != nil {
		n.t.Fatalf("redistest: SIGCONT %s: %v", n.Addr, err)
	}
}

// Alive reports whether the process runs (it may be frozen).
func (n *Node) Alive() bool { return n.p.running() }

func newNodes(t testing.TB, ps []*proc) []*Node {
	ns := make([]*Node, len(ps))
	for i, p := range ps {
		ns[i] = &Node{Addr: p.addr(), t: t, p: p}
	}
	return ns
}

func findNode(t testing.TB, ns []*Node, addr string) *Node {
	t.Helper()
	for _, n := range ns {
		if n.Addr == addr {
			return n
		}
	}
	t.Fatalf("redistest: no node %s", addr)
	return nil
}

// do runs one command on the node at addr with short timeouts and no
// retries, for the helpers' own checks.
func do(addr string, args ...any) (any, error) {
	c := redis.NewClient(&redis.Options{
		Addr: addr, DialTimeout: 500 * time.Millisecond, ReadTimeout: 500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond, MaxRetries: -1, DialerRetries: 1, PoolSize: 1,
		DisableIdentity: true,
	})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.Do(ctx, args...).Result()
}

// info returns the fields of INFO section at addr.
func info(addr, section string) (map[string]string, error) {
	v, err := do(addr, "INFO", section)
	if err != nil {
		return nil, err
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("INFO %s: reply %T", section, v)
	}
	m := make(map[string]string)
	for line := range strings.SplitSeq(s, "\n") {
		if k, val, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			m[k] = val
		}
	}
	return m, nil
}

// role returns "master" or "slave" for the node at addr.
func role(addr string) (string, error) {
	m, err := info(addr, "replication")
	if err != nil {
		return "", err
	}
	return m["role"], nil
}

// caughtUp reports whether the replica at addr has every byte its master
// had sent when masterOffset was read.
func caughtUp(addr string, masterOffset int64) bool {
	m, err := info(addr, "replication")
	if err != nil || m["master_link_status"] != "up" {
		return false
	}
	off, err := strconv.ParseInt(m["slave_repl_offset"], 10, 64)
	return err == nil && off >= masterOffset
}

// waitReplicated waits until every replica has caught up with its master.
func waitReplicated(t testing.TB, pairs map[string][]string) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for master, replicas := range pairs {
		m, err := info(master, "replication")
		if err != nil {
			t.Fatalf("redistest: INFO replication on %s: %v", master, err)
		}
		off, _ := strconv.ParseInt(m["master_repl_offset"], 10, 64)
		for _, r := range replicas {
			for !caughtUp(r, off) {
				if time.Now().After(deadline) {
					t.Fatalf("redistest: replica %s did not catch up with %s (offset %d) within %s", r, master, off, startTimeout)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
