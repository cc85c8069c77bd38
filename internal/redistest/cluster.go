package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ClusterOptions configure StartCluster.
type ClusterOptions struct {
	// NodeTimeout is cluster-node-timeout: how long a master may be
	// unreachable before its replica takes over. 0 means 2 s (shorter risks
	// spurious fail-overs on a loaded machine).
	NodeTimeout time.Duration
}

// Cluster is a Redis Cluster of three masters with one replica each, on
// loopback, stopped when the test ends. It does not use REDIS_URL.
type Cluster struct {
	// URL lists every node as redis-cluster://host:port,host:port,...
	URL string
	// Nodes are the six processes, in start order (the first three began as
	// masters).
	Nodes []*Node
	// Prefix is a key prefix unique to this test (ends with ":").
	Prefix string

	t        testing.TB
	mu       sync.Mutex
	replicas map[string][]string // master addr -> its replicas' addrs, as of the last KillMaster
}

// StartCluster starts six redis-server processes with cluster mode on,
// joins them with `redis-cli --cluster create --cluster-replicas 1` and
// waits until every node reports the cluster healthy and every replica is in
// sync. It fails t (never skips) when redis-server or redis-cli is missing.
func StartCluster(t testing.TB, o ClusterOptions) *Cluster {
	SkipShort(t)
	t.Helper()
	if o.NodeTimeout <= 0 {
		o.NodeTimeout = 2 * time.Second
	}
	bin := lookBin(t, "redis-server", "redis-server")
	cli := lookBin(t, "redis-cli", "redis-tools")
	out := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Redis Cluster output:\n%s", out.String())
		}
	})
	ps := startProcs(t, bin, true, out, func(dir string, _ int) []string {
		return []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.FormatInt(o.NodeTimeout.Milliseconds(), 10),
			// Fail over whatever the replica's lag, and keep the topology
			// as created: tests reason about "the master of key k".
			"--cluster-replica-validity-factor", "0",
			"--cluster-allow-replica-migration", "no",
			"--save", "", "--appendonly", "no",
			"--bind", "127.0.0.1",
			"--dir", dir,
		}
	}, 6)
	c := &Cluster{Nodes: newNodes(t, ps), Prefix: "test:" + randomHex(t, 8) + ":", t: t}
	addrs := make([]string, len(ps))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr
	}
	c.URL = "redis-cluster://" + strings.Join(addrs, ",")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "1", "--cluster-yes")...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v", err)
	}
	// Healthy: every node says so and sees three masters with a replica each.
	healthy := func() bool {
		for _, a := range addrs {
			m, err := clusterInfo(a)
			if err != nil || m["cluster_state"] != "ok" || m["cluster_known_nodes"] != "6" {
				return false
			}
			nodes, err := clusterNodes(a)
			if err != nil {
				return false
			}
			masters, replicas := 0, 0
			for _, n := range nodes {
				switch {
				case n.master && len(n.slots) > 0:
					masters++
				case !n.master && n.masterID != "-":
					replicas++
				}
			}
			if masters != 3 || replicas != 3 {
				return false
			}
		}
		return true
	}
	if !waitFor(startTimeout, healthy) {
		t.Fatalf("redistest: the cluster did not become healthy within %s", startTimeout)
	}
	c.WaitReplicated()
	return c
}

// Node returns the node at addr, failing the test when there is none.
func (c *Cluster) Node(addr string) *Node {
	c.t.Helper()
	return findNode(c.t, c.Nodes, addr)
}

// MasterOf returns the address of the master that serves key now, as the
// cluster itself (a live node) reports it.
func (c *Cluster) MasterOf(key string) string {
	c.t.Helper()
	m, _ := c.masterOf(key)
	return m
}

func (c *Cluster) masterOf(key string) (master string, replicas []string) {
	c.t.Helper()
	live := c.liveAddr()
	v, err := do(live, "CLUSTER", "KEYSLOT", key)
	if err != nil {
		c.t.Fatalf("redistest: CLUSTER KEYSLOT: %v", err)
	}
	slot := int(v.(int64))
	nodes, err := clusterNodes(live)
	if err != nil {
		c.t.Fatalf("redistest: CLUSTER NODES: %v", err)
	}
	for _, n := range nodes {
		if n.master && !n.failed && n.serves(slot) {
			for _, r := range nodes {
				if r.masterID == n.id {
					replicas = append(replicas, r.addr)
				}
			}
			return n.addr, replicas
		}
	}
	c.t.Fatalf("redistest: no live master serves slot %d", slot)
	return "", nil
}

// KillMaster kills (SIGKILL) the master that serves key and returns its
// address; pass it to WaitPromoted.
func (c *Cluster) KillMaster(key string) string {
	c.t.Helper()
	master, replicas := c.masterOf(key)
	if len(replicas) == 0 {
		c.t.Fatalf("redistest: master %s has no replica", master)
	}
	c.mu.Lock()
	if c.replicas == nil {
		c.replicas = make(map[string][]string)
	}
	c.replicas[master] = replicas
	c.mu.Unlock()
	c.Node(master).Kill()
	return master
}

// WaitPromoted waits until a replica of the master killed by KillMaster
// reports itself master, and returns its address and when that was first
// seen (polled every 20 ms). It returns only once every live node reports
// the cluster healthy again (which may be later than that time). It fails
// the test when either takes longer than timeout.
func (c *Cluster) WaitPromoted(dead string, timeout time.Duration) (string, time.Time) {
	c.t.Helper()
	c.mu.Lock()
	replicas := c.replicas[dead]
	c.mu.Unlock()
	if len(replicas) == 0 {
		c.t.Fatalf("redistest: %s was not killed by KillMaster", dead)
	}
	var promoted string
	if !waitFor(timeout, func() bool {
		for _, r := range replicas {
			if role, err := role(r); err == nil && role == "master" {
				promoted = r
				return true
			}
		}
		return false
	}) {
		c.t.Fatalf("redistest: no replica of %s was promoted within %s", dead, timeout)
	}
	at := time.Now()
	// Return once every live node agrees, so that MasterOf and
	// WaitReplicated see the new topology.
	if !waitFor(timeout, func() bool {
		for _, n := range c.Nodes {
			if n.Addr == dead || !n.Alive() {
				continue
			}
			if m, err := clusterInfo(n.Addr); err != nil || m["cluster_state"] != "ok" {
				return false
			}
		}
		return true
	}) {
		c.t.Fatalf("redistest: the cluster was not healthy again within %s of %s's promotion", timeout, promoted)
	}
	return promoted, at
}

// WaitReplicated waits until every live replica has every write its master
// had acknowledged when WaitReplicated was called.
func (c *Cluster) WaitReplicated() {
	c.t.Helper()
	nodes, err := clusterNodes(c.liveAddr())
	if err != nil {
		c.t.Fatalf("redistest: CLUSTER NODES: %v", err)
	}
	byID := make(map[string]clusterNode)
	for _, n := range nodes {
		byID[n.id] = n
	}
	pairs := make(map[string][]string)
	for _, n := range nodes {
		if m, ok := byID[n.masterID]; ok && !n.failed && !m.failed {
			pairs[m.addr] = append(pairs[m.addr], n.addr)
		}
	}
	if len(pairs) == 0 {
		c.t.Fatal("redistest: the cluster has no replica in sync")
	}
	waitReplicated(c.t, pairs)
}

// liveAddr returns the address of a node that answers.
func (c *Cluster) liveAddr() string {
	c.t.Helper()
	for _, n := range c.Nodes {
		if n.Alive() && ping(n.Addr) == nil {
			return n.Addr
		}
	}
	c.t.Fatal("redistest: no cluster node answers")
	return ""
}

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	id, addr, masterID string
	master, failed     bool
	slots              [][2]int
}

func (n clusterNode) serves(slot int) bool {
	for _, r := range n.slots {
		if slot >= r[0] && slot <= r[1] {
			return true
		}
	}
	return false
}

func clusterNodes(addr string) ([]clusterNode, error) {
	v, err := do(addr, "CLUSTER", "NODES")
	if err != nil {
		return nil, err
	}
	s, _ := v.(string)
	var out []clusterNode
	for line := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("CLUSTER NODES line %q", line)
		}
		n := clusterNode{id: f[0], masterID: f[3]}
		n.addr, _, _ = strings.Cut(f[1], "@")
		for flag := range strings.SplitSeq(f[2], ",") {
			switch flag {
			case "master":
				n.master = true
			case "fail", "noaddr": // not "fail?": one node's passing doubt
				n.failed = true
			}
		}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				continue // a slot being migrated
			}
			lo, hi, ok := strings.Cut(r, "-")
			if !ok {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("CLUSTER NODES slot range %q", r)
			}
			n.slots = append(n.slots, [2]int{a, b})
		}
		out = append(out, n)
	}
	return out, nil
}

func clusterInfo(addr string) (map[string]string, error) {
	v, err := do(addr, "CLUSTER", "INFO")
	if err != nil {
		return nil, err
	}
	s, _ := v.(string)
	m := make(map[string]string)
	for line := range strings.SplitSeq(s, "\n") {
		if k, val, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			m[k] = val
		}
	}
	return m, nil
}
