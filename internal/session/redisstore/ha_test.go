package redisstore_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/redisstore"
)

// backWithin is how soon after a replica's promotion every call must
// succeed again (issue 11).
const backWithin = 5 * time.Second

// TestClusterMasterKilled: with reads and writes going on, SIGKILL the
// master of a third of the keys. Within backWithin of its replica's
// promotion every call succeeds again, and no session is lost.
func TestClusterMasterKilled(t *testing.T) {
	cl := redistest.StartCluster(t, redistest.ClusterOptions{})
	st, err := redisstore.New(redisstore.Options{URL: cl.URL + "?op_timeout=500ms&dial_timeout=200ms", Prefix: cl.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pre := seed(t, st, 150)
	cl.WaitReplicated()
	// Two instances caching sessions, for the change feed.
	mo := redisstore.Options{URL: cl.URL + "?op_timeout=500ms&dial_timeout=200ms", Prefix: cl.Prefix}
	ma, _ := cachedManagerFor(t, mo)
	mb, csb := cachedManagerFor(t, mo)
	checkSignOuts(t, ma, mb, csb, 30, 5*time.Second)
	// Kill the master of the feed's slot, and read its records half the time.
	feedKey := cl.Prefix + "{feed}ends"
	victim := cl.MasterOf(feedKey)
	var onVictim []*session.Record
	for _, r := range pre {
		if cl.MasterOf(cl.Prefix+"s:"+r.ID) == victim {
			onVictim = append(onVictim, r)
		}
	}
	l := startLoad(st, pre, onVictim)
	time.Sleep(300 * time.Millisecond)
	killed := time.Now()
	dead := cl.KillMaster(feedKey)
	promoted, at := cl.WaitPromoted(dead, 20*time.Second)
	t.Logf("master %s killed; replica %s promoted %v later", dead, promoted, at.Sub(killed).Round(time.Millisecond))
	l.checkRecovery(t, killed, at)
	l.checkNothingLost(t, st, pre, at)
	// The feed moved to the promoted master: caching and sign-outs work.
	checkSignOuts(t, ma, mb, csb, 30, time.Until(at.Add(backWithin)))
}

// TestSentinelMasterKilled is TestClusterMasterKilled for a master with two
// replicas and three Sentinels.
func TestSentinelMasterKilled(t *testing.T) {
	sg := redistest.StartSentinel(t, redistest.SentinelOptions{})
	st, err := redisstore.New(redisstore.Options{URL: sg.URL + "?op_timeout=500ms&dial_timeout=200ms", Prefix: sg.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pre := seed(t, st, 100)
	sg.WaitReplicated()
	mo := redisstore.Options{URL: sg.URL + "?op_timeout=500ms&dial_timeout=200ms", Prefix: sg.Prefix}
	ma, _ := cachedManagerFor(t, mo)
	mb, csb := cachedManagerFor(t, mo)
	checkSignOuts(t, ma, mb, csb, 30, 5*time.Second)
	l := startLoad(st, pre, pre)
	time.Sleep(300 * time.Millisecond)
	killed := time.Now()
	dead := sg.KillMaster()
	promoted, at := sg.WaitPromoted(dead, 20*time.Second)
	t.Logf("master %s killed; replica %s promoted %v later", dead, promoted, at.Sub(killed).Round(time.Millisecond))
	l.checkRecovery(t, killed, at)
	l.checkNothingLost(t, st, pre, at)
	checkSignOuts(t, ma, mb, csb, 30, time.Until(at.Add(backWithin)))
}

// TestHungRedisAnswersFast: a SIGSTOPped Redis accepts connections but never
// answers; Get and Ping must still fail (ErrUnavailable) within 2 s with the
// default op timeout, and work again once it is resumed.
func TestHungRedisAnswersFast(t *testing.T) {
	srv := redistest.Start(t)
	st := newStore(t, srv, nil)
	rec := record("u|hung", time.Hour)
	mustCreate(t, st, rec)
	srv.SigStop()
	for _, tc := range []struct {
		name string
		call func(context.Context) error
	}{
		{"Get", func(c context.Context) error { _, err := st.Get(c, rec.ID); return err }},
		{"Ping", st.Ping},
		{"Create", func(c context.Context) error { return st.Create(c, record("u|hung", time.Hour)) }},
		{"Update", func(c context.Context) error { return st.Update(c, rec, rec.Version) }},
		{"Delete", func(c context.Context) error { _, err := st.Delete(c, rec.ID, time.Now()); return err }},
		{"ListByUser", func(c context.Context) error { _, err := st.ListByUser(c, "u|hung"); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := tc.call(context.Background()) // no deadline: the op timeout must bound it
			took := time.Since(start)
			t.Logf("%s answered in %v: %v", tc.name, took.Round(time.Millisecond), err)
			if !errors.Is(err, session.ErrUnavailable) {
				t.Errorf("err = %v, want ErrUnavailable", err)
			}
			if took > 2*time.Second {
				t.Errorf("took %v, want at most 2s", took)
			}
		})
	}
	// op_timeout in the URL sets the bound.
	short := newStore(t, srv, func(o *redisstore.Options) { o.URL += "?op_timeout=300ms" })
	start := time.Now()
	if _, err := short.Get(context.Background(), rec.ID); !errors.Is(err, session.ErrUnavailable) || time.Since(start) > 700*time.Millisecond {
		t.Errorf("Get with op_timeout=300ms: %v after %v", err, time.Since(start))
	}
	// A caller's shorter deadline (e.g. /readyz's) is honoured too.
	c, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	start = time.Now()
	err := st.Ping(c)
	cancel()
	if took := time.Since(start); !errors.Is(err, session.ErrUnavailable) || took > 700*time.Millisecond {
		t.Errorf("Ping with a 200ms context: %v after %v", err, took)
	}
	srv.SigCont()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := st.Get(context.Background(), rec.ID)
		if err == nil && got.ID == rec.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after SIGCONT: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// seed saves n records for distinct users.
func seed(t *testing.T, st *redisstore.Store, n int) []*session.Record {
	t.Helper()
	recs := make([]*session.Record, n)
	for i := range recs {
		recs[i] = record("u|seed"+string(rune('a'+i%26)), time.Hour)
		mustCreate(t, st, recs[i])
	}
	return recs
}

// opResult is one store call of a load run.
type opResult struct {
	start, end time.Time
	write      bool
	err        error
	rec        *session.Record // the record written
}

// load runs reads of existing records and writes of new ones from a few
// goroutines until stopped.
type load struct {
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	ops  []opResult
}

// startLoad reads records of pre (half of the time of hot) and saves new
// ones, from four goroutines, each call bounded by the store's op timeout.
func startLoad(st *redisstore.Store, pre, hot []*session.Record) *load {
	l := &load{stop: make(chan struct{})}
	for w := range 4 {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				op := opResult{start: time.Now(), write: (i+w)%3 == 0}
				if op.write {
					op.rec = record("u|load", time.Hour)
					op.err = st.Create(context.Background(), op.rec)
				} else {
					from := pre
					if i%2 == 0 {
						from = hot
					}
					r := from[rand.IntN(len(from))]
					var got *session.Record
					got, op.err = st.Get(context.Background(), r.ID)
					if op.err == nil && got.ID != r.ID {
						op.err = errors.New("read another record")
					}
				}
				op.end = time.Now()
				l.mu.Lock()
				l.ops = append(l.ops, op)
				l.mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	return l
}

// checkRecovery runs the load until backWithin (plus a second) after
// promoted, stops it, and fails t when a call that started later than
// backWithin after promoted failed. It logs the outage seen.
func (l *load) checkRecovery(t *testing.T, killed, promoted time.Time) {
	t.Helper()
	time.Sleep(time.Until(promoted.Add(backWithin + time.Second)))
	close(l.stop)
	l.wg.Wait()
	var failed, late, after int
	var lastFail time.Time
	var lastErr error
	for _, op := range l.ops {
		if op.start.After(promoted.Add(backWithin)) {
			after++
		}
		if op.err == nil {
			continue
		}
		failed++
		if op.end.After(lastFail) {
			lastFail, lastErr = op.end, op.err
		}
		if op.start.After(promoted.Add(backWithin)) {
			late++
			if late <= 3 {
				t.Errorf("a call %v after the promotion failed: %v", op.start.Sub(promoted).Round(time.Millisecond), op.err)
			}
		}
	}
	if after < 20 {
		t.Errorf("only %d calls after the recovery window; the load did not run", after)
	}
	if !lastFail.IsZero() {
		t.Logf("%d of %d calls failed; the last one ended %v after the kill, %v after the promotion: %v",
			failed, len(l.ops), lastFail.Sub(killed).Round(time.Millisecond), lastFail.Sub(promoted).Round(time.Millisecond), lastErr)
	} else {
		t.Logf("none of %d calls failed", len(l.ops))
	}
	if late > 0 {
		t.Errorf("%d calls failed later than %v after the promotion", late, backWithin)
	}
}

// checkNothingLost: every seeded record and every record whose Create
// succeeded after the promotion is still there. (A write acknowledged by the
// old master in its last milliseconds may not have reached the replica:
// Redis replicates asynchronously. Those are counted, not failed.)
func (l *load) checkNothingLost(t *testing.T, st *redisstore.Store, pre []*session.Record, promoted time.Time) {
	t.Helper()
	for _, r := range pre {
		if _, err := st.Get(ctx(t), r.ID); err != nil {
			t.Errorf("seeded session %s not readable after the recovery: %v", r.ID[:8], err)
		}
	}
	var lostBefore int
	for _, op := range l.ops {
		if !op.write || op.err != nil {
			continue
		}
		if _, err := st.Get(ctx(t), op.rec.ID); err != nil {
			if op.end.Before(promoted) {
				lostBefore++
				continue
			}
			t.Errorf("session written %v after the promotion not readable: %v", op.end.Sub(promoted).Round(time.Millisecond), err)
		}
	}
	t.Logf("writes acknowledged by the old master before it died and lost: %d", lostBefore)
}
