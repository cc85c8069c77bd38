package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// tokenGrants are the per-upstream token collectors, registered on first
// use (a BFF without token policies exports none of them).
type tokenGrants struct {
	once   sync.Once
	grants *prometheus.CounterVec
	dur    *prometheus.HistogramVec
	ws     *prometheus.GaugeVec
}

var grantsOf sync.Map // *Metrics -> *tokenGrants

func (m *Metrics) tokenGrants() *tokenGrants {
	v, _ := grantsOf.LoadOrStore(m, &tokenGrants{})
	g := v.(*tokenGrants)
	g.once.Do(func() {
		g.grants = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authbff_upstream_token_grants_total",
			Help: `Token grants at the IdP for one upstream, by upstream, kind ("user": a narrowed refresh grant; "client": a client credentials grant) and result ("ok", "fatal", "transient").`,
		}, []string{"upstream", "kind", "result"})
		g.dur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "authbff_upstream_token_grant_duration_seconds",
			Help:    "Duration of token grants for one upstream, by upstream and kind.",
			Buckets: refreshBuckets,
		}, []string{"upstream", "kind"})
		g.ws = prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "authbff_websockets_open",
			Help: "WebSocket (upgraded) connections open through the proxy, by upstream.",
		}, []string{"upstream"})
		m.reg.MustRegister(g.grants, g.dur, g.ws)
	})
	return g
}

// UpstreamGrant counts a token grant for an upstream (kind "user" or
// "client"; result RefreshOK, RefreshFatal or RefreshTransient). Labels are
// the configured upstream name and fixed words: never a user or a token.
func (m *Metrics) UpstreamGrant(upstream, kind, result string, d time.Duration) {
	if m == nil {
		return
	}
	g := m.tokenGrants()
	g.grants.WithLabelValues(upstream, kind, result).Inc()
	g.dur.WithLabelValues(upstream, kind).Observe(d.Seconds())
}

// WebSocket adds delta (1 when one opens, -1 when it closes) to the
// upgraded connections open to upstream.
func (m *Metrics) WebSocket(upstream string, delta int) {
	if m == nil {
		return
	}
	m.tokenGrants().ws.WithLabelValues(upstream).Add(float64(delta))
}
