package redisstore_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authbff/authbff/bff/store/storetest"
	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/redisstore"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) session.Store {
		return newStore(t, redistest.Start(t), nil)
	})
}

// TestConformanceCluster runs the suite on a Redis Cluster (one for every
// subtest, each under its own prefix): every record write is one script
// on one key, so nothing crosses slots.
func TestConformanceCluster(t *testing.T) {
	cl := redistest.StartCluster(t, redistest.ClusterOptions{})
	n := 0
	storetest.Run(t, func(t *testing.T) session.Store {
		n++
		s, err := redisstore.New(redisstore.Options{URL: cl.URL, Prefix: fmt.Sprintf("%s%d:", cl.Prefix, n)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestNewOptions(t *testing.T) {
	shared := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { shared.Close() })
	tests := []struct {
		name    string
		o       redisstore.Options
		wantErr bool
	}{
		{"nothing", redisstore.Options{}, true},
		{"URL and Client", redisstore.Options{URL: "redis://127.0.0.1:1/0", Client: shared}, true},
		{"bad scheme", redisstore.Options{URL: "http://127.0.0.1:1"}, true},
		{"URL", redisstore.Options{URL: "redis://127.0.0.1:1/0"}, false},
		{"rediss URL", redisstore.Options{URL: "rediss://u:p@127.0.0.1:1/2"}, false},
		{"Universal", redisstore.Options{Universal: &redis.UniversalOptions{Addrs: []string{"127.0.0.1:1"}}}, false},
		{"Client", redisstore.Options{Client: shared}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := redisstore.New(tc.o)
			if (err != nil) != tc.wantErr {
				t.Fatalf("New err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil {
				if s.Prefix() != redisstore.DefaultPrefix {
					t.Errorf("Prefix = %q, want %q", s.Prefix(), redisstore.DefaultPrefix)
				}
				s.Close()
			}
		})
	}
}

// TestKeyLayout checks the documented keys, their expiry, and that nothing
// else is written.
func TestKeyLayout(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, srv, nil)
	c, rdb := ctx(t), s.Client()

	short, long := record("cognito|alice", time.Hour), record("cognito|alice", 3*time.Hour)
	mustCreate(t, s, short)
	mustCreate(t, s, long)

	sKey := func(r *session.Record) string { return srv.Prefix + "s:" + r.ID }
	uKey := srv.Prefix + "u:cognito|alice"
	var keys []string
	iter := rdb.Scan(c, 0, srv.Prefix+"*", 100).Iterator()
	for iter.Next(c) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	want := []string{sKey(short), sKey(long), uKey}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("keys = %q, want %q", keys, want)
	}

	wantPTTL := func(key string, at time.Time) {
		t.Helper()
		got, err := rdb.PTTL(c, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if d := got - time.Until(at); d < -2*time.Second || d > time.Second {
			t.Errorf("PTTL(%s) = %v, want about %v", key, got, time.Until(at))
		}
	}
	wantPTTL(sKey(short), short.Expires)
	wantPTTL(sKey(long), long.Expires)
	wantPTTL(uKey, long.Expires) // the index lives as long as its longest member

	scores, err := rdb.ZRangeWithScores(c, uKey, 0, -1).Result()
	if err != nil || len(scores) != 2 || scores[0].Member != short.ID || int64(scores[0].Score) != short.Expires.UnixMilli() {
		t.Fatalf("index = %v, %v; want ids scored by expiry ms", scores, err)
	}

	// Shortening the longest session shortens the index.
	long.Expires = time.Now().Add(30 * time.Minute)
	mustUpdate(t, s, long)
	wantPTTL(uKey, short.Expires)

	// Deleting every session removes the index too, and leaves a
	// tombstone expiring at the later of `until` and the record's expiry.
	until := time.Now().Add(2 * time.Hour)
	for _, r := range []*session.Record{short, long} {
		if _, err := s.Delete(c, r.ID, until); err != nil {
			t.Fatal(err)
		}
	}
	if n := rdb.Exists(c, uKey).Val(); n != 0 {
		t.Errorf("the index is left after deleting every session")
	}
	for _, r := range []*session.Record{short, long} {
		if v := rdb.Get(c, sKey(r)).Val(); v != `{"ended":true}` {
			t.Errorf("%s after Delete = %q, want the tombstone", sKey(r), v)
		}
	}
	wantPTTL(sKey(short), until)
	wantPTTL(sKey(long), until)
}

// TestNoKeysCommand runs every operation and checks Redis never saw KEYS.
func TestNoKeysCommand(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, srv, nil)
	c := ctx(t)
	keysCalls := func() string {
		t.Helper()
		info, err := s.Client().Info(c, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(info, "\n") {
			if strings.HasPrefix(line, "cmdstat_keys:") {
				return strings.TrimSpace(line)
			}
		}
		return ""
	}
	before := keysCalls()
	r := record("u|k", time.Hour)
	mustCreate(t, s, r)
	_, _ = s.Get(c, r.ID)
	_, _ = s.ListByUser(c, "u|k")
	_, _ = s.Delete(c, r.ID, time.Now())
	unlock, _, _ := s.Lock(c, "n", time.Second)
	unlock()
	_ = s.WaitUnlocked(c, "n", 0)
	if after := keysCalls(); after != before {
		t.Fatalf("KEYS was called: %q -> %q", before, after)
	}
}

func TestUndecodableRecord(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, srv, nil)
	c := ctx(t)
	if err := s.Client().Set(c, srv.Prefix+"s:bad", "{not json", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get(c, "bad")
	if !errors.Is(err, session.ErrUnavailable) || errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get(corrupt) = %v, want ErrUnavailable", err)
	}
	if rec, err := s.Delete(c, "bad", time.Now().Add(time.Hour)); rec != nil || err != nil {
		t.Fatalf("Delete(corrupt) = %v, %v, want nil, nil", rec, err)
	}
	if _, err := s.Get(c, "bad"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
}

// TestOutage checks that a Redis outage is reported as ErrUnavailable, never
// as a missing session, and quickly; and that the store recovers.
func TestOutage(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, srv, func(o *redisstore.Options) {
		o.DialTimeout = 200 * time.Millisecond
		o.ReadTimeout = 200 * time.Millisecond
		o.MaxRetries = -1
	})
	c := ctx(t)
	rec := record("u|outage", time.Hour)
	mustCreate(t, s, rec)

	srv.Stop()
	ops := []struct {
		name string
		call func() error
	}{
		{"Get", func() error { _, err := s.Get(c, rec.ID); return err }},
		{"Create", func() error { return s.Create(c, record("u|outage", time.Hour)) }},
		{"Update", func() error { return s.Update(c, rec, rec.Version) }},
		{"Delete", func() error { _, err := s.Delete(c, rec.ID, time.Now()); return err }},
		{"ListByUser", func() error { _, err := s.ListByUser(c, rec.UserKey); return err }},
		{"Ping", func() error { return s.Ping(c) }},
		{"Lock", func() error { _, _, err := s.Lock(c, "x", time.Second); return err }},
		{"WaitUnlocked", func() error { return s.WaitUnlocked(c, "x", 0) }},
	}
	for _, op := range ops {
		start := time.Now()
		err := op.call()
		if !errors.Is(err, session.ErrUnavailable) || errors.Is(err, session.ErrNotFound) {
			t.Errorf("%s while Redis is down = %v, want ErrUnavailable", op.name, err)
		}
		t.Logf("%s failed after %v", op.name, time.Since(start))
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %v to fail, want well under the timeouts' sum", op.name, d)
		}
	}

	srv.Restart() // with persistence off, the data is gone
	if _, err := s.Get(c, rec.ID); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get after restart = %v, want ErrNotFound", err)
	}
	mustCreate(t, s, rec)
	if got, err := s.Get(c, rec.ID); err != nil || got.ID != rec.ID {
		t.Fatalf("Get after re-save = %v, %v", got, err)
	}
}

func TestClose(t *testing.T) {
	srv := redistest.Start(t)
	opt, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	shared := redis.NewClient(opt)
	t.Cleanup(func() { shared.Close() })
	s, err := redisstore.New(redisstore.Options{Client: shared, Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	c := ctx(t)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Get(c, "x"); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("Get after Close = %v, want ErrUnavailable", err)
	}
	if err := s.Create(c, record("u|c", time.Hour)); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("Create after Close = %v, want ErrUnavailable", err)
	}
	if err := shared.Ping(c).Err(); err != nil {
		t.Errorf("shared client closed by Store.Close: %v", err)
	}

	own := newStore(t, srv, nil)
	own.Close()
	if err := own.Client().Ping(c).Err(); !errors.Is(err, redis.ErrClosed) {
		t.Errorf("own client after Close: Ping = %v, want redis.ErrClosed", err)
	}
}
