package redistest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SentinelOptions configure StartSentinel.
type SentinelOptions struct {
	// DownAfter is the Sentinels' down-after-milliseconds: how long the
	// master may not answer before it is failed over. 0 means 2 s (shorter
	// risks spurious fail-overs on a loaded machine).
	DownAfter time.Duration
}

// Sentinel is a Redis master with two replicas watched by three Sentinels
// (quorum 2), on loopback, stopped when the test ends. It does not use
// REDIS_URL.
type Sentinel struct {
	// URL is redis-sentinel://s1,s2,s3/<MasterName>.
	URL string
	// MasterName is the name the Sentinels monitor the master under.
	MasterName string
	// Sentinels are the Sentinels' host:port.
	Sentinels []string
	// Nodes are the data nodes, in start order (the first began as master).
	Nodes []*Node
	// Prefix is a key prefix unique to this test (ends with ":").
	Prefix string

	t testing.TB
}

// StartSentinel starts a master, two replicas and three Sentinels
// (redis-server --sentinel) and waits until every replica is in sync and
// every Sentinel knows both replicas and the other two Sentinels, so that a
// fail-over can happen. It fails t (never skips) when redis-server is missing.
func StartSentinel(t testing.TB, o SentinelOptions) *Sentinel {
	SkipShort(t)
	t.Helper()
	if o.DownAfter <= 0 {
		o.DownAfter = 2 * time.Second
	}
	bin := lookBin(t, "redis-server", "redis-server")
	out := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Redis Sentinel group output:\n%s", out.String())
		}
	})
	s := &Sentinel{MasterName: "authbff-test", Prefix: "test:" + randomHex(t, 8) + ":", t: t}
	common := []string{"--save", "", "--appendonly", "no", "--bind", "127.0.0.1"}
	master := startProcs(t, bin, false, out, func(dir string, _ int) []string {
		return append(append([]string(nil), common...), "--dir", dir)
	}, 1)[0]
	replicas := startProcs(t, bin, false, out, func(dir string, _ int) []string {
		return append(append([]string(nil), common...), "--dir", dir,
			"--replicaof", "127.0.0.1", strconv.Itoa(master.port))
	}, 2)
	s.Nodes = newNodes(t, append([]*proc{master}, replicas...))
	waitReplicated(t, map[string][]string{master.addr(): {replicas[0].addr(), replicas[1].addr()}})

	sentinels := startProcs(t, bin, false, out, func(dir string, port int) []string {
		conf := filepath.Join(dir, "sentinel.conf")
		body := fmt.Sprintf(`port %d
bind 127.0.0.1
dir %s
sentinel monitor %s 127.0.0.1 %d 2
sentinel down-after-milliseconds %[3]s %[5]d
sentinel failover-timeout %[3]s %[6]d
sentinel parallel-syncs %[3]s 2
`, port, dir, s.MasterName, master.port, o.DownAfter.Milliseconds(), (5 * o.DownAfter).Milliseconds())
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatalf("redistest: write %s: %v", conf, err)
		}
		return []string{conf, "--sentinel"}
	}, 3)
	for _, p := range sentinels {
		s.Sentinels = append(s.Sentinels, p.addr())
	}
	s.URL = "redis-sentinel://" + strings.Join(s.Sentinels, ",") + "/" + s.MasterName
	ready := func() bool {
		for _, a := range s.Sentinels {
			v, err := do(a, "SENTINEL", "MASTER", s.MasterName)
			if err != nil {
				return false
			}
			m := pairsMap(v)
			if m["num-slaves"] != "2" || m["num-other-sentinels"] != "2" {
				return false
			}
		}
		return true
	}
	// Sentinels find each other through hello messages every 2 s.
	if !waitFor(4*startTimeout, ready) {
		t.Fatalf("redistest: the Sentinels did not discover each other and the replicas within %s", 4*startTimeout)
	}
	return s
}

// Node returns the data node at addr, failing the test when there is none.
func (s *Sentinel) Node(addr string) *Node {
	s.t.Helper()
	return findNode(s.t, s.Nodes, addr)
}

// Master returns the master's address as a Sentinel reports it.
func (s *Sentinel) Master() string {
	s.t.Helper()
	for _, a := range s.Sentinels {
		if m, err := s.masterFrom(a); err == nil {
			return m
		}
	}
	s.t.Fatal("redistest: no Sentinel answers")
	return ""
}

func (s *Sentinel) masterFrom(sentinel string) (string, error) {
	v, err := do(sentinel, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.MasterName)
	if err != nil {
		return "", err
	}
	hp, ok := v.([]any)
	if !ok || len(hp) != 2 {
		return "", fmt.Errorf("GET-MASTER-ADDR-BY-NAME reply %v", v)
	}
	return net.JoinHostPort(fmt.Sprint(hp[0]), fmt.Sprint(hp[1])), nil
}

// KillMaster kills (SIGKILL) the current master and returns its address;
// pass it to WaitPromoted.
func (s *Sentinel) KillMaster() string {
	s.t.Helper()
	m := s.Master()
	s.Node(m).Kill()
	return m
}

// WaitPromoted waits until a data node other than dead reports itself
// master, and returns its address and when that was first seen (polled
// every 20 ms). The Sentinels start advertising it shortly after. It fails
// the test after timeout.
func (s *Sentinel) WaitPromoted(dead string, timeout time.Duration) (string, time.Time) {
	s.t.Helper()
	var promoted string
	if !waitFor(timeout, func() bool {
		for _, n := range s.Nodes {
			if n.Addr == dead || !n.Alive() {
				continue
			}
			if r, err := role(n.Addr); err == nil && r == "master" {
				promoted = n.Addr
				return true
			}
		}
		return false
	}) {
		s.t.Fatalf("redistest: no replica of %s was promoted within %s", dead, timeout)
	}
	return promoted, time.Now()
}

// WaitReplicated waits until every live replica of the current master has
// every write the master had when WaitReplicated was called.
func (s *Sentinel) WaitReplicated() {
	s.t.Helper()
	m := s.Master()
	var rs []string
	for _, n := range s.Nodes {
		if n.Addr != m && n.Alive() {
			rs = append(rs, n.Addr)
		}
	}
	waitReplicated(s.t, map[string][]string{m: rs})
}

// pairsMap turns a flat [k1 v1 k2 v2 ...] or map reply into a map.
func pairsMap(v any) map[string]string {
	m := make(map[string]string)
	switch x := v.(type) {
	case []any:
		for i := 0; i+1 < len(x); i += 2 {
			m[fmt.Sprint(x[i])] = fmt.Sprint(x[i+1])
		}
	case map[any]any:
		for k, val := range x {
			m[fmt.Sprint(k)] = fmt.Sprint(val)
		}
	}
	return m
}
