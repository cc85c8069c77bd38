package refresh_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/refresh"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/redisstore"
)

func TestNotDueTouchesNothing(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	s := *f.sess
	s.Data.Tokens.AccessExpiry = time.Time{} // unknown expiry: never due
	got, err := f.co.IfDue(ctx(t), f.token, &s)
	if err != nil || got != &s {
		t.Fatalf("IfDue(zero expiry) = %p, %v; want the same session", got, err)
	}
	s.Data.Tokens.AccessExpiry = f.clock.Now().Add(3 * time.Hour) // beyond the 2h margin
	if got, err := f.co.IfDue(ctx(t), f.token, &s); err != nil || got != &s {
		t.Fatalf("IfDue(not due) = %p, %v", got, err)
	}
	if n := f.idp.Attempts.Load(); n != 0 {
		t.Fatalf("%d refresh grants, want 0", n)
	}
}

func TestConcurrentCallersShareOneRefresh(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.idp.Delay.Store(int64(50 * time.Millisecond))
	const callers = 100
	got := make([]string, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			s := *f.sess // each request loaded its own copy
			out, err := f.co.IfDue(ctx(t), f.token, &s)
			if err != nil || out == nil {
				t.Errorf("IfDue = %v, %v", out, err)
				return
			}
			got[i] = out.Data.Tokens.AccessToken
		})
	}
	wg.Wait()
	if n := f.idp.Attempts.Load(); n != 1 {
		t.Fatalf("%d concurrent callers caused %d refresh grants, want 1", callers, n)
	}
	for i, tok := range got {
		if tok == "" || tok == f.sess.Data.Tokens.AccessToken || tok != got[0] {
			t.Fatalf("caller %d got a stale or different access token", i)
		}
	}
	stored, err := f.mgr.Load(ctx(t), f.token)
	if err != nil || stored.Data.Tokens.AccessToken != got[0] || stored.Data.RefreshedAt.IsZero() {
		t.Fatalf("stored session not updated: %v", err)
	}
	if stored.Data.Tokens.RefreshToken != f.sess.Data.Tokens.RefreshToken {
		t.Fatal("refresh token changed although the IdP does not rotate")
	}
}

// TestTwoInstancesOneRefresh: two coordinators (instances) with their own
// managers on one real Redis.
func TestTwoInstancesOneRefresh(t *testing.T) {
	srv := redistest.Start(t)
	stores := [2]*redisstore.Store{}
	for i := range stores {
		st, err := redisstore.New(redisstore.Options{URL: srv.URL, Prefix: srv.Prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores[i] = st
	}
	f := newFixture(t, fixtureOpts{store: stores[0], locker: stores[0]})
	f.idp.Delay.Store(int64(100 * time.Millisecond))
	cos := [2]*refresh.Coordinator{f.co, f.coordinator(t, newManager(t, stores[1]), stores[1])}
	const callers = 100
	var wg sync.WaitGroup
	var mu sync.Mutex
	tokens := map[string]int{}
	for i := range callers {
		wg.Go(func() {
			s := *f.sess
			out, err := cos[i%2].IfDue(ctx(t), f.token, &s)
			if err != nil || out == nil {
				t.Errorf("IfDue = %v, %v", out, err)
				return
			}
			mu.Lock()
			tokens[out.Data.Tokens.AccessToken]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if n := f.idp.Attempts.Load(); n != 1 {
		t.Fatalf("%d callers on 2 instances caused %d refresh grants, want 1", callers, n)
	}
	if _, stale := tokens[f.sess.Data.Tokens.AccessToken]; stale || len(tokens) != 1 {
		t.Fatalf("callers saw %d distinct access tokens (stale included: %v), want 1 new one", len(tokens), stale)
	}
}

func TestRotationStoresNewRefreshToken(t *testing.T) {
	f := newFixture(t, fixtureOpts{client: rotID})
	first := f.sess.Data.Tokens.RefreshToken
	s1, err := f.co.Force(ctx(t), f.token, f.sess)
	if err != nil || s1 == nil {
		t.Fatalf("Force = %v, %v", s1, err)
	}
	if s1.Data.Tokens.RefreshToken == first {
		t.Fatal("rotated refresh token not stored")
	}
	// A forced refresh moments after another is not repeated.
	if s, _ := f.co.Force(ctx(t), f.token, s1); s.Data.Tokens.AccessToken != s1.Data.Tokens.AccessToken || f.idp.Attempts.Load() != 1 {
		t.Fatal("a second forced refresh within MinBackoff reached the IdP")
	}
	f.clock.Advance(refresh.DefaultMinBackoff)
	// The second refresh can only succeed with the stored (rotated) token:
	// the dev IdP killed the first one.
	s2, err := f.co.Force(ctx(t), f.token, s1)
	if err != nil || s2 == nil || s2.Data.Tokens.RefreshToken == s1.Data.Tokens.RefreshToken {
		t.Fatalf("second rotation: %v, %v", s2, err)
	}
	if st := f.idp.Stats(); st.RefreshGrants != 2 || st.TokenErrors != 0 {
		t.Fatalf("IdP stats %+v, want 2 refresh grants and no errors", st)
	}
}

func TestFatalErrorEndsSession(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	if err := f.prov.Revoke(ctx(t), f.sess.Data.Tokens.RefreshToken); err != nil {
		t.Fatal(err)
	}
	got, err := f.co.IfDue(ctx(t), f.token, f.sess)
	if err != nil || got != nil {
		t.Fatalf("IfDue after revocation = %v, %v; want nil, nil (session ended)", got, err)
	}
	if _, err := f.mgr.Load(ctx(t), f.token); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load after fatal refresh = %v, want ErrNotFound", err)
	}
}

func TestIdentityMismatchIsFatal(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(d *session.Data)
	}{
		{"sub", func(d *session.Data) { d.Subject = "someone-else" }},
		{"iss", func(d *session.Data) { d.Issuer += "x" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, fixtureOpts{})
			tc.edit(&f.sess.Data)
			if err := f.mgr.Save(ctx(t), f.token, f.sess); err != nil {
				t.Fatal(err)
			}
			if got, err := f.co.IfDue(ctx(t), f.token, f.sess); err != nil || got != nil {
				t.Fatalf("IfDue = %v, %v; want the session ended", got, err)
			}
			if _, err := f.mgr.Load(ctx(t), f.token); !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("Load = %v, want ErrNotFound", err)
			}
		})
	}
	t.Run("other issuer is not asked", func(t *testing.T) {
		f := newFixture(t, fixtureOpts{})
		f.issuer = "https://another-idp.example"
		f.co = f.coordinator(t, f.mgr, nil)
		got, err := f.co.IfDue(ctx(t), f.token, f.sess)
		if err != nil || got == nil || got.Data.Tokens.AccessToken != f.sess.Data.Tokens.AccessToken || f.idp.Attempts.Load() != 0 {
			t.Fatalf("IfDue = %v, %v; want the session untouched and no IdP call", got, err)
		}
	})
	t.Run("aud", func(t *testing.T) {
		f := newFixture(t, fixtureOpts{})
		f.clientID = "another-client" // the expected audience differs
		f.co = f.coordinator(t, f.mgr, nil)
		if got, err := f.co.IfDue(ctx(t), f.token, f.sess); err != nil || got != nil {
			t.Fatalf("IfDue = %v, %v; want the session ended", got, err)
		}
	})
}

func TestTransientErrorBacksOff(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.idp.Down.Store(true)
	s, err := f.co.IfDue(ctx(t), f.token, f.sess)
	if err != nil || s == nil || s.Data.RefreshError != refresh.ErrorCode {
		t.Fatalf("IfDue during outage = %+v, %v; want the session kept with RefreshError", s, err)
	}
	if stored, err := f.mgr.Load(ctx(t), f.token); err != nil || stored.Data.RefreshError != refresh.ErrorCode {
		t.Fatalf("stored RefreshError = %v, %v", stored, err)
	}
	calls := func() int32 { return f.idp.Attempts.Load() }
	for range 50 { // a burst of reads: no storm
		if _, err := f.co.IfDue(ctx(t), f.token, s); err != nil {
			t.Fatal(err)
		}
	}
	if n := calls(); n != 1 {
		t.Fatalf("%d refresh attempts right after a failure, want 1 (back-off)", n)
	}
	f.clock.Advance(7 * time.Second) // > 5s + 20% jitter
	_, _ = f.co.IfDue(ctx(t), f.token, s)
	f.clock.Advance(7 * time.Second) // < 10s - 20%: still backing off
	_, _ = f.co.IfDue(ctx(t), f.token, s)
	if n := calls(); n != 2 {
		t.Fatalf("%d attempts, want 2 (second delay doubled to 10s)", n)
	}
	f.idp.Down.Store(false)
	f.clock.Advance(6 * time.Second)
	s, err = f.co.IfDue(ctx(t), f.token, s)
	if err != nil || s == nil || s.Data.RefreshError != "" || s.Data.Tokens.AccessToken == f.sess.Data.Tokens.AccessToken {
		t.Fatalf("IfDue after recovery = %+v, %v; want fresh tokens and no error", s, err)
	}
	if n := calls(); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
}

func TestStoreFaultIsUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	st, err := redisstore.New(redisstore.Options{URL: srv.URL, Prefix: srv.Prefix, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := newFixture(t, fixtureOpts{store: st, locker: st})
	srv.Stop()
	got, err := f.co.IfDue(ctx(t), f.token, f.sess)
	if !errors.Is(err, session.ErrUnavailable) || got != nil {
		t.Fatalf("IfDue with Redis down = %v, %v; want ErrUnavailable", got, err)
	}
	if n := f.idp.Attempts.Load(); n != 0 {
		t.Fatalf("%d refresh grants without the lock, want 0", n)
	}
}
