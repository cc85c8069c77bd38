// Package metrics is authbff's Prometheus instrumentation: the counters and
// histograms the HTTP layer records (sign-ins, sign-outs, session reads,
// refreshes, proxied calls, back-channel logouts), a session.Store decorator
// that times every store operation, and a small server for the separate
// metrics listener.
//
// Everything lives on the Metrics' own prometheus.Registry: nothing is
// registered on the process-wide default registry, so several Metrics (tests,
// two BFFs in one host) never collide.
//
// Label values are bounded: results come from fixed sets (anything else is
// counted as "other"), and provider, upstream and store names must be short
// identifiers ([A-Za-z0-9_.-], at most 64 bytes) from a bounded set (see
// DeclareProviders); no label ever holds a user, session id, token or path.
//
// Every recording method is safe on a nil *Metrics (it does nothing), so
// callers need no checks when metrics are off.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Result label values shared by several metrics.
const (
	// ResultOK is a success: a completed sign-in, a session found, a
	// refreshed token, an accepted logout token.
	ResultOK = "ok"
	// ResultOther is what any result outside a metric's fixed set is counted as.
	ResultOther = "other"
	// ResultUnavailable is a store or IdP outage (answered 503).
	ResultUnavailable = "unavailable"
)

// Session read results (authbff_session_reads_total).
const (
	// ReadOK: the cookie named a live session.
	ReadOK = ResultOK
	// ReadNone: no cookie, or it named no live session.
	ReadNone = "none"
	// ReadUnavailable: the store could not be asked (503, cookie kept).
	ReadUnavailable = ResultUnavailable
)

// Refresh results (authbff_refreshes_total).
const (
	// RefreshOK: new tokens stored.
	RefreshOK = ResultOK
	// RefreshFatal: the IdP refused the refresh token; the session was ended.
	RefreshFatal = "fatal"
	// RefreshTransient: the IdP could not be reached; the session was kept.
	RefreshTransient = "transient"
)

// Back-channel logout results (authbff_backchannel_logouts_total).
const (
	// BackchannelOK: a valid logout token ended the sessions it names.
	BackchannelOK = ResultOK
	// BackchannelInvalid: no, an invalid, or an unsupported (sid-only) token (400).
	BackchannelInvalid = "invalid"
	// BackchannelReplayed: a logout token already used (400).
	BackchannelReplayed = "replayed"
	// BackchannelUnavailable: the IdP's keys or the store could not be reached (503).
	BackchannelUnavailable = ResultUnavailable
)

// signInResults are the sign-in results with their own series: "ok", the
// contract's (v4) error codes (internal/auth) and "unavailable" for a store
// outage during the callback.
var signInResults = [...]string{
	ResultOK, "Configuration", "AccessDenied", "Verification", "OAuthSignin", "OAuthCallback",
	"Callback", "SessionRequired", "Default", "MissingCSRF", ResultUnavailable,
}

var refreshResults = [...]string{RefreshOK, RefreshFatal, RefreshTransient}

var backchannelResults = [...]string{BackchannelOK, BackchannelInvalid, BackchannelReplayed, BackchannelUnavailable}

// Histogram buckets, in seconds.
var (
	// IdP token endpoint round trips: tens of ms to the 10 s client timeout.
	refreshBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	// Upstream APIs: up to the proxy's 30 s response-header timeout.
	proxyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	// Store operations: microseconds (memory, bolt reads) to seconds (a sick Redis).
	storeBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 2.5}
)

// maxNames bounds the provider and upstream names with their own series
// until DeclareProviders/DeclareUpstreams fixes the sets.
const maxNames = 32

// Metrics holds authbff's collectors on its own registry. Make it with New;
// a nil *Metrics records nothing. It is safe for concurrent use.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	signins      *prometheus.CounterVec
	signouts     *prometheus.CounterVec
	sessionReads *prometheus.CounterVec
	refreshes    *prometheus.CounterVec
	refreshDur   *prometheus.HistogramVec
	proxyReqs    *prometheus.CounterVec
	proxyDur     *prometheus.HistogramVec
	storeDur     *prometheus.HistogramVec
	storeErrs    *prometheus.CounterVec
	backchannel  *prometheus.CounterVec
	active       *activeCollector

	// The session read counters, resolved once: the hot path is one atomic add.
	readOK, readNone, readUnavailable prometheus.Counter

	providers *names[providerSeries]
	upstreams *names[upstreamSeries]
}

// New returns Metrics with every authbff collector, the Go runtime, process
// and build-info collectors registered on a fresh registry.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.signins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authbff_signins_total",
		Help: `Sign-ins by provider and result: "ok" for a completed sign-in, else the contract's error code (OAuthCallback, AccessDenied, ...) or "unavailable".`,
	}, []string{"provider", "result"})
	m.signouts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authbff_signouts_total",
		Help: "Sessions ended by a sign-out, by provider.",
	}, []string{"provider"})
	m.sessionReads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authbff_session_reads_total",
		Help: `Session lookups by result: "ok", "none" (no live session) or "unavailable" (store fault).`,
	}, []string{"result"})
	m.refreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authbff_refreshes_total",
		Help: `Token refreshes at the IdP by provider and result: "ok", "fatal" (session ended) or "transient" (IdP unreachable, session kept).`,
	}, []string{"provider", "result"})
	m.refreshDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "authbff_refresh_duration_seconds",
		Help:    "Duration of token refreshes at the IdP, by provider.",
		Buckets: refreshBuckets,
	}, []string{"provider"})
	m.proxyReqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authbff_proxy_requests_total",
		Help: "Proxied API calls by upstream and the HTTP status answered to the browser.",
	}, []string{"upstream", "code"})
	m.proxyDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "authbff_proxy_duration_seconds",
		Help:    "Duration of proxied API calls (including a refresh and retry after a 401), by upstream.",
		Buckets: proxyBuckets,
	}, []string{"upstream"})
	m.storeDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "authbff_store_operation_duration_seconds",
		Help:    "Duration of session store operations, by store and operation.",
		Buckets: storeBuckets,
	}, []string{"store", "op"})
	m.storeErrs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authbff_store_errors_total",
		Help: "Session store operations that failed (a fault, not a missing session), by store and operation.",
	}, []string{"store", "op"})
	m.backchannel = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authbff_backchannel_logouts_total",
		Help: `Back-channel logout requests by provider and result: "ok", "invalid", "replayed" or "unavailable".`,
	}, []string{"provider", "result"})
	m.active = newActiveCollector()
	m.reg.MustRegister(
		m.signins, m.signouts, m.sessionReads, m.refreshes, m.refreshDur, m.proxyReqs,
		m.proxyDur, m.storeDur, m.storeErrs, m.backchannel, m.active,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	)
	m.readOK = m.sessionReads.WithLabelValues(ReadOK)
	m.readNone = m.sessionReads.WithLabelValues(ReadNone)
	m.readUnavailable = m.sessionReads.WithLabelValues(ReadUnavailable)
	m.providers = newNames(m.newProviderSeries)
	m.upstreams = newNames(m.newUpstreamSeries)
	m.handler = promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:      m.reg,
		ErrorHandling: promhttp.ContinueOnError,
	}))
	return m
}

// CacheStats publishes authbff_session_cache_hits_total and
// authbff_session_cache_misses_total, read from stats at every scrape
// (session.Manager.CacheStats). Call it once.
func (m *Metrics) CacheStats(stats func() (hits, misses uint64)) {
	if m == nil || stats == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "authbff_session_cache_hits_total",
			Help: "Session loads answered by the in-process session cache.",
		}, func() float64 { h, _ := stats(); return float64(h) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "authbff_session_cache_misses_total",
			Help: "Session loads that went to the store while the cache was on.",
		}, func() float64 { _, mi := stats(); return float64(mi) }),
	)
}

// Registry returns the registry every collector is on, for a host that
// adds its own. Nil for a nil *Metrics.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler returns the /metrics handler (Prometheus text or OpenMetrics, as
// the scraper asks). On a nil *Metrics it answers 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return m.handler
}

// DeclareProviders fixes the provider names that get their own series (the
// configured provider ids) and creates their series at zero, so rates and
// ratios exist before the first event. Any other name is then counted as
// "other". Without it the first 32 valid names seen get series.
func (m *Metrics) DeclareProviders(ids ...string) {
	if m != nil {
		m.providers.declare(ids)
	}
}

// DeclareUpstreams does for upstream names (the lower-cased <NAME> of
// UPSTREAM_<NAME>) what DeclareProviders does for providers.
func (m *Metrics) DeclareUpstreams(names ...string) {
	if m != nil {
		m.upstreams.declare(names)
	}
}

// SignIn counts a sign-in that ended: result is ResultOK for a completed
// sign-in, else the contract's error code the browser was sent to
// (internal/auth Err* values, v4 spelling) or ResultUnavailable.
func (m *Metrics) SignIn(provider, result string) {
	if m == nil {
		return
	}
	p := m.providers.get(provider)
	countResult(p.signins[:], signInResults[:], result, m.signins, p.name)
}

// SignOut counts a session ended by a sign-out.
func (m *Metrics) SignOut(provider string) {
	if m == nil {
		return
	}
	m.providers.get(provider).signout.Inc()
}

// SessionRead counts a session lookup: ReadOK, ReadNone or ReadUnavailable.
// It does not allocate.
func (m *Metrics) SessionRead(result string) {
	if m == nil {
		return
	}
	switch result {
	case ReadOK:
		m.readOK.Inc()
	case ReadNone:
		m.readNone.Inc()
	case ReadUnavailable:
		m.readUnavailable.Inc()
	default:
		m.sessionReads.WithLabelValues(ResultOther).Inc()
	}
}

// Refresh counts a token refresh at the IdP (RefreshOK, RefreshFatal or
// RefreshTransient) and observes how long it took.
func (m *Metrics) Refresh(provider, result string, d time.Duration) {
	if m == nil {
		return
	}
	p := m.providers.get(provider)
	p.refreshDur.Observe(d.Seconds())
	countResult(p.refreshes[:], refreshResults[:], result, m.refreshes, p.name)
}

// Proxy counts a proxied API call with the status answered to the browser
// (a status outside 100-599, e.g. 0 for nothing written, is "other") and
// observes how long it took. It does not allocate once the (upstream,
// code) pair has been seen.
func (m *Metrics) Proxy(upstream string, code int, d time.Duration) {
	if m == nil {
		return
	}
	u := m.upstreams.get(upstream)
	u.dur.Observe(d.Seconds())
	u.code(code).Inc()
}

// Backchannel counts a back-channel logout request: BackchannelOK,
// BackchannelInvalid, BackchannelReplayed or BackchannelUnavailable.
func (m *Metrics) Backchannel(provider, result string) {
	if m == nil {
		return
	}
	p := m.providers.get(provider)
	countResult(p.backchannel[:], backchannelResults[:], result, m.backchannel, p.name)
}

// countResult increments series[i], the pre-resolved series of results[i],
// for the result given; an unknown result counts as {provider, "other"} of
// vec.
func countResult(series []prometheus.Counter, results []string, result string, vec *prometheus.CounterVec, provider string) {
	for i, r := range results {
		if r == result {
			series[i].Inc()
			return
		}
	}
	vec.WithLabelValues(provider, ResultOther).Inc()
}
