package metrics

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// maxNameLen bounds a provider, upstream or store label value.
const maxNameLen = 64

// validName reports whether s may be a label value for a name: 1 to 64
// bytes of [A-Za-z0-9_.-]. Anything else (a path, a URL, junk from a
// request) is counted under "other".
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// names maps a provider or upstream name to its pre-resolved series. Reads
// are lock-free and do not allocate (a copy-on-write map behind an atomic
// pointer); a new name takes the mutex once. The set is bounded: invalid
// names, names beyond maxNames, and (once declared) undeclared names all
// share the ResultOther entry.
type names[T any] struct {
	mk       func(name string) *T
	cur      atomic.Pointer[map[string]*T]
	mu       sync.Mutex
	declared bool
}

func newNames[T any](mk func(string) *T) *names[T] {
	n := &names[T]{mk: mk}
	n.cur.Store(&map[string]*T{})
	return n
}

func (n *names[T]) get(name string) *T {
	if v, ok := (*n.cur.Load())[name]; ok {
		return v
	}
	return n.add(name)
}

func (n *names[T]) add(name string) *T {
	n.mu.Lock()
	defer n.mu.Unlock()
	cur := *n.cur.Load()
	if v, ok := cur[name]; ok {
		return v
	}
	known := len(cur)
	if _, ok := cur[ResultOther]; ok {
		known--
	}
	if n.declared || !validName(name) || known >= maxNames {
		name = ResultOther
		if v, ok := cur[name]; ok {
			return v
		}
	}
	v := n.mk(name)
	next := make(map[string]*T, len(cur)+1)
	for k, e := range cur {
		next[k] = e
	}
	next[name] = v
	n.cur.Store(&next)
	return v
}

// declare fixes the set to the valid names in list (plus any already seen:
// their series exist anyway) and creates their series.
func (n *names[T]) declare(list []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	cur := *n.cur.Load()
	next := make(map[string]*T, len(cur)+len(list))
	for k, e := range cur {
		next[k] = e
	}
	for _, name := range list {
		if _, ok := next[name]; !ok && validName(name) {
			next[name] = n.mk(name)
		}
	}
	n.declared = true
	n.cur.Store(&next)
}

// providerSeries are one provider's series, resolved once.
type providerSeries struct {
	name        string
	signins     [len(signInResults)]prometheus.Counter
	signout     prometheus.Counter
	refreshes   [len(refreshResults)]prometheus.Counter
	refreshDur  prometheus.Observer
	backchannel [len(backchannelResults)]prometheus.Counter
}

func (m *Metrics) newProviderSeries(name string) *providerSeries {
	p := &providerSeries{
		name:       name,
		signout:    m.signouts.WithLabelValues(name),
		refreshDur: m.refreshDur.WithLabelValues(name),
	}
	for i, r := range signInResults {
		p.signins[i] = m.signins.WithLabelValues(name, r)
	}
	for i, r := range refreshResults {
		p.refreshes[i] = m.refreshes.WithLabelValues(name, r)
	}
	for i, r := range backchannelResults {
		p.backchannel[i] = m.backchannel.WithLabelValues(name, r)
	}
	return p
}

// Status codes with their own proxy series: 100 to 599; the slot after
// them is "other".
const (
	minCode = 100
	maxCode = 599
)

// upstreamSeries are one upstream's series. Status code counters are made
// on first use (most of the 500 codes never occur) and kept.
type upstreamSeries struct {
	name  string
	m     *Metrics
	dur   prometheus.Observer
	codes [maxCode - minCode + 2]atomic.Pointer[codeCounter]
}

type codeCounter struct{ c prometheus.Counter }

func (m *Metrics) newUpstreamSeries(name string) *upstreamSeries {
	return &upstreamSeries{name: name, m: m, dur: m.proxyDur.WithLabelValues(name)}
}

func (u *upstreamSeries) code(code int) prometheus.Counter {
	i, label := len(u.codes)-1, ResultOther
	if code >= minCode && code <= maxCode {
		i, label = code-minCode, ""
	}
	if c := u.codes[i].Load(); c != nil {
		return c.c
	}
	if label == "" {
		label = strconv.Itoa(code)
	}
	// A racing first use stores the same child: WithLabelValues returns one
	// counter per label pair.
	c := &codeCounter{c: u.m.proxyReqs.WithLabelValues(u.name, label)}
	u.codes[i].Store(c)
	return c.c
}
