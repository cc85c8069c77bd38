package metrics

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authbff/authbff/internal/session"
)

// SessionCounter is implemented by stores that can count their sessions
// cheaply (memory, bolt). Count returns the number of sessions held: records
// with a UserKey (not the one-time markers of sign-in flows and logout
// tokens), possibly including expired ones not yet purged. It is called once
// per scrape for authbff_sessions_active. Failing that, a store's `Len() int`
// (memstore: every record held) is used.
type SessionCounter interface {
	Count(ctx context.Context) (int, error)
}

// locker is session.Locker (the refresh lock); *redisstore.Store implements it.
type locker = session.Locker

// Store operation label values (authbff_store_*{op}).
const (
	OpGet          = "get"
	OpCreate       = "create"
	OpUpdate       = "update"
	OpDelete       = "delete"
	OpListByUser   = "list_by_user"
	OpListBySID    = "list_by_sid"
	OpMarkUsed     = "mark_used"
	OpUnmarkUsed   = "unmark_used"
	OpPing         = "ping"
	OpLock         = "lock"
	OpWaitUnlocked = "wait_unlocked"
	OpCount        = "count"
)

// countTimeout bounds the store count made at scrape time.
const countTimeout = 2 * time.Second

// InstrumentStore returns s timing every operation in
// authbff_store_operation_duration_seconds{store,op} and counting faults in
// authbff_store_errors_total{store,op}. A fault is any error except
// session.ErrNotFound, the caller's context.Canceled (a client gone away),
// and a plain context deadline that does not wrap session.ErrUnavailable
// (WaitUnlocked giving up on another instance's lock).
//
// The returned store implements session.Watcher and the refresh Locker
// (Lock, WaitUnlocked) exactly when s does, and SessionCounter when s
// implements it or `Len() int`; in that case authbff_sessions_active reports
// its count at every scrape (the last store instrumented wins). Unwrap
// returns s. With a nil m, s is returned unchanged. storeName is a label
// value such as "memory", "bolt" or "redis".
func InstrumentStore(s session.Store, storeName string, m *Metrics) session.Store {
	if m == nil || s == nil {
		return s
	}
	if !validName(storeName) {
		storeName = ResultOther
	}
	b := &instrumented{s: s}
	for op, o := range map[string]*opSeries{
		OpGet: &b.get, OpCreate: &b.create, OpUpdate: &b.update, OpDelete: &b.del, OpListByUser: &b.list, OpPing: &b.ping,
		OpListBySID: &b.listSID, OpMarkUsed: &b.mark, OpUnmarkUsed: &b.unmark,
	} {
		*o = m.opSeries(storeName, op)
	}
	w, _ := s.(session.Watcher)
	var lp lockPart
	if l, ok := s.(locker); ok {
		lp = lockPart{l: l, lock: m.opSeries(storeName, OpLock), wait: m.opSeries(storeName, OpWaitUnlocked)}
	}
	var cp countPart
	switch c := s.(type) {
	case SessionCounter:
		cp.count = c.Count
	case interface{ Len() int }:
		cp.count = func(context.Context) (int, error) { return c.Len(), nil }
	}
	if cp.count != nil {
		cp.op = m.opSeries(storeName, OpCount)
		m.active.src.Store(&cp)
	}
	wp := watchPart{w: w}
	switch {
	case w != nil && lp.l != nil && cp.count != nil:
		return &storeWLC{b, wp, lp, cp}
	case w != nil && lp.l != nil:
		return &storeWL{b, wp, lp}
	case w != nil && cp.count != nil:
		return &storeWC{b, wp, cp}
	case lp.l != nil && cp.count != nil:
		return &storeLC{b, lp, cp}
	case w != nil:
		return &storeW{b, wp}
	case lp.l != nil:
		return &storeL{b, lp}
	case cp.count != nil:
		return &storeC{b, cp}
	}
	return b
}

func (m *Metrics) opSeries(store, op string) opSeries {
	return opSeries{dur: m.storeDur.WithLabelValues(store, op), errs: m.storeErrs.WithLabelValues(store, op)}
}

// opSeries are one (store, op) pair's series, resolved once.
type opSeries struct {
	dur  prometheus.Observer
	errs prometheus.Counter
}

func (o *opSeries) done(start time.Time, err error) {
	o.dur.Observe(time.Since(start).Seconds())
	if fault(err) {
		o.errs.Inc()
	}
}

func fault(err error) bool {
	switch {
	case err == nil, errors.Is(err, session.ErrNotFound), errors.Is(err, session.ErrConflict), errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, session.ErrUnavailable):
		return true
	}
	return !errors.Is(err, context.DeadlineExceeded)
}

// instrumented is the decorator for the session.Store methods.
type instrumented struct {
	s                                                           session.Store
	get, create, update, del, list, listSID, mark, unmark, ping opSeries
}

// Get implements session.Store.
func (i *instrumented) Get(ctx context.Context, id string) (*session.Record, error) {
	start := time.Now()
	rec, err := i.s.Get(ctx, id)
	i.get.done(start, err)
	return rec, err
}

// Create implements session.Store.
func (i *instrumented) Create(ctx context.Context, rec *session.Record) error {
	start := time.Now()
	err := i.s.Create(ctx, rec)
	i.create.done(start, err)
	return err
}

// Update implements session.Store.
func (i *instrumented) Update(ctx context.Context, rec *session.Record, version int64) error {
	start := time.Now()
	err := i.s.Update(ctx, rec, version)
	i.update.done(start, err)
	return err
}

// Delete implements session.Store.
func (i *instrumented) Delete(ctx context.Context, id string, until time.Time) (*session.Record, error) {
	start := time.Now()
	rec, err := i.s.Delete(ctx, id, until)
	i.del.done(start, err)
	return rec, err
}

// ListByUser implements session.Store.
func (i *instrumented) ListByUser(ctx context.Context, userKey string) ([]*session.Record, error) {
	start := time.Now()
	recs, err := i.s.ListByUser(ctx, userKey)
	i.list.done(start, err)
	return recs, err
}

// ListBySID implements session.Store.
func (i *instrumented) ListBySID(ctx context.Context, sidKey string) ([]*session.Record, error) {
	start := time.Now()
	recs, err := i.s.ListBySID(ctx, sidKey)
	i.listSID.done(start, err)
	return recs, err
}

// MarkUsed implements session.Store.
func (i *instrumented) MarkUsed(ctx context.Context, key string, expires time.Time) (bool, error) {
	start := time.Now()
	seen, err := i.s.MarkUsed(ctx, key, expires)
	i.mark.done(start, err)
	return seen, err
}

// UnmarkUsed implements session.Store.
func (i *instrumented) UnmarkUsed(ctx context.Context, key string) error {
	start := time.Now()
	err := i.s.UnmarkUsed(ctx, key)
	i.unmark.done(start, err)
	return err
}

// Ping implements session.Store.
func (i *instrumented) Ping(ctx context.Context) error {
	start := time.Now()
	err := i.s.Ping(ctx)
	i.ping.done(start, err)
	return err
}

// Close implements session.Store (not timed).
func (i *instrumented) Close() error { return i.s.Close() }

// Unwrap returns the instrumented store.
func (i *instrumented) Unwrap() session.Store { return i.s }

type watchPart struct{ w session.Watcher }

// Watch implements session.Watcher (not timed: it runs until ctx ends).
func (p watchPart) Watch(ctx context.Context, changed func(id string), healthy func(ok bool)) {
	p.w.Watch(ctx, changed, healthy)
}

// WaitWatch implements session.WatchWaiter: it waits for the wrapped
// store's watch when it can, else returns at once.
func (p watchPart) WaitWatch(ctx context.Context) {
	if ww, ok := p.w.(session.WatchWaiter); ok {
		ww.WaitWatch(ctx)
	}
}

// WatchLeased implements session.LeasedWatcher: the wrapped store's lease
// when it has one (the Manager's cache must honour it across the
// decorator), else a plain Watch that is always current.
func (p watchPart) WatchLeased(ctx context.Context, changed func(id string), healthy func(ok bool)) func() bool {
	if lw, ok := p.w.(session.LeasedWatcher); ok {
		return lw.WatchLeased(ctx, changed, healthy)
	}
	p.w.Watch(ctx, changed, healthy)
	return func() bool { return true }
}

type lockPart struct {
	l          locker
	lock, wait opSeries
}

// Lock implements refresh.Locker.
func (p lockPart) Lock(ctx context.Context, name string, ttl time.Duration) (func(), bool, error) {
	start := time.Now()
	unlock, ok, err := p.l.Lock(ctx, name, ttl)
	p.lock.done(start, err)
	return unlock, ok, err
}

// WaitUnlocked implements refresh.Locker; its duration includes the wait.
func (p lockPart) WaitUnlocked(ctx context.Context, name string, poll time.Duration) error {
	start := time.Now()
	err := p.l.WaitUnlocked(ctx, name, poll)
	p.wait.done(start, err)
	return err
}

type countPart struct {
	count func(context.Context) (int, error)
	op    opSeries
}

// Count implements SessionCounter.
func (p countPart) Count(ctx context.Context) (int, error) {
	start := time.Now()
	n, err := p.count(ctx)
	p.op.done(start, err)
	return n, err
}

// The decorator's shapes: one per combination of optional interfaces, so a
// type assertion on the wrapped store answers as it would on s.
type (
	storeW struct {
		*instrumented
		watchPart
	}
	storeL struct {
		*instrumented
		lockPart
	}
	storeC struct {
		*instrumented
		countPart
	}
	storeWL struct {
		*instrumented
		watchPart
		lockPart
	}
	storeWC struct {
		*instrumented
		watchPart
		countPart
	}
	storeLC struct {
		*instrumented
		lockPart
		countPart
	}
	storeWLC struct {
		*instrumented
		watchPart
		lockPart
		countPart
	}
)

// activeCollector reports authbff_sessions_active from the instrumented
// store's count, asked at scrape time; nothing while no store can count.
type activeCollector struct {
	desc *prometheus.Desc
	src  atomic.Pointer[countPart]
}

func newActiveCollector() *activeCollector {
	return &activeCollector{desc: prometheus.NewDesc("authbff_sessions_active",
		"Sessions held by the store (may include expired ones not yet purged); absent when the store cannot count cheaply.",
		nil, nil)}
}

// Describe implements prometheus.Collector.
func (c *activeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector. A failed count leaves the gauge
// out of this scrape (and counts a store error) rather than failing it.
func (c *activeCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.src.Load()
	if src == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), countTimeout)
	defer cancel()
	n, err := src.Count(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}
