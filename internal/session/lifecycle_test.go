package session_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/boltstore"
	"github.com/authbff/authbff/internal/session/memstore"
	"github.com/authbff/authbff/internal/session/redisstore"
	"github.com/authbff/authbff/internal/testclock"
)

const day = 24 * time.Hour

// lifecycleManager is a Manager on st with the given options and clk.
func lifecycleManager(t *testing.T, st session.Store, clk *clock, o session.ManagerOptions) *session.Manager {
	t.Helper()
	o.Store, o.Secrets, o.Now = st, [][]byte{secret(1)}, clk.Now
	m, err := session.NewManager(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func userData(provider, sub string) session.Data {
	d := sampleData()
	d.Provider, d.Subject = provider, sub
	return d
}

func create(t *testing.T, m *session.Manager, d session.Data, sid string) string {
	t.Helper()
	tok, _, err := m.Create(context.Background(), d, session.Meta{SID: sid})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return tok
}

// wantLive checks which of the tokens' records are still in st (reading
// the store, not loading, so that the check slides no expiry).
func wantLive(t *testing.T, st session.Store, live map[string]bool) {
	t.Helper()
	for tok, want := range live {
		_, err := st.Get(context.Background(), session.IDFromToken(tok))
		if got := err == nil; got != want {
			t.Errorf("session %s…: live = %v (%v), want %v", tok[:6], got, err, want)
		}
		if err != nil && !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Get: %v, want nil or ErrNotFound", err)
		}
	}
}

func TestPerUserCap(t *testing.T) {
	f := newFixture(t)
	m := lifecycleManager(t, f.store, f.clk, session.ManagerOptions{MaxPerUser: 3})
	alice, bob := userData("cognito", "alice"), userData("cognito", "bob")
	a1 := create(t, m, alice, "")
	f.clk.Add(time.Minute)
	a2 := create(t, m, alice, "")
	f.clk.Add(time.Minute)
	a3 := create(t, m, alice, "")
	b1, b2 := create(t, m, bob, ""), create(t, m, bob, "")
	// a1 is used again after a day: a2 becomes the least recently active.
	f.clk.Add(day)
	if s, err := m.Load(context.Background(), a1); err != nil || !s.Extended {
		t.Fatalf("Load(a1) = %v, %v; want it extended", s, err)
	}

	a4 := create(t, m, alice, "")
	wantLive(t, f.store, map[string]bool{a1: true, a2: false, a3: true, a4: true, b1: true, b2: true})
	f.clk.Add(time.Minute)
	a5 := create(t, m, alice, "")
	wantLive(t, f.store, map[string]bool{a1: true, a3: false, a4: true, a5: true, b1: true, b2: true})
	if list, err := m.List(context.Background(), session.UserKey("cognito", "alice")); err != nil || len(list) != 3 {
		t.Fatalf("List = %d sessions, %v; want 3", len(list), err)
	}
}

// TestDefaultPerUserCap is issue 10's "501 made, all live" with the defaults.
func TestDefaultPerUserCap(t *testing.T) {
	f := newFixture(t)
	m := lifecycleManager(t, f.store, f.clk, session.ManagerOptions{})
	var toks []string
	for range session.DefaultMaxPerUser + 5 {
		toks = append(toks, create(t, m, sampleData(), ""))
		f.clk.Add(time.Second)
	}
	list, err := m.List(context.Background(), session.UserKey("cognito", "sub-123"))
	if err != nil || len(list) != session.DefaultMaxPerUser {
		t.Fatalf("List = %d sessions, %v; want %d", len(list), err, session.DefaultMaxPerUser)
	}
	live := make(map[string]bool)
	for i, tok := range toks {
		live[tok] = i >= 5 // the five oldest ended
	}
	wantLive(t, f.store, live)
}

func TestPerUserCapStoreFaultKeepsNewSession(t *testing.T) {
	f := newFixture(t)
	cs := &listFailStore{Store: f.store}
	m := lifecycleManager(t, cs, f.clk, session.ManagerOptions{MaxPerUser: 1})
	old := create(t, m, sampleData(), "")
	cs.fail = true
	tok := create(t, m, sampleData(), "")
	wantLive(t, f.store, map[string]bool{old: true, tok: true})
}

// listFailStore fails ListByUser with a store fault when fail is set.
type listFailStore struct {
	session.Store
	fail bool
}

func (l *listFailStore) ListByUser(ctx context.Context, userKey string) ([]*session.Record, error) {
	if l.fail {
		return nil, fmt.Errorf("list: %w", session.ErrUnavailable)
	}
	return l.Store.ListByUser(ctx, userKey)
}

func TestAbsoluteLifetime(t *testing.T) {
	for _, cacheTTL := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprintf("cache %v", cacheTTL), func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			m := lifecycleManager(t, f.store, f.clk, session.ManagerOptions{
				MaxAge: 7 * day, UpdateAge: day, AbsoluteLifetime: 10 * day, CacheTTL: cacheTTL,
			})
			tok, s, err := m.Create(ctx, sampleData(), session.Meta{})
			if err != nil || !s.Expires.Equal(t0.Add(7*day)) {
				t.Fatalf("Create: Expires = %v, %v; want MaxAge from now", s.Expires, err)
			}
			// Used every day, the expiry slides until it meets the absolute limit.
			for d, want := range []time.Time{t0.Add(8 * day), t0.Add(9 * day), t0.Add(10 * day), t0.Add(10 * day)} {
				f.clk.Add(day)
				s, err := m.Load(ctx, tok)
				if err != nil || !s.Expires.Equal(want) {
					t.Fatalf("day %d: Load = %v, %v; want Expires %v", d+1, s, err, want)
				}
			}
			f.clk.Set(t0.Add(10*day - time.Minute))
			if _, err := m.Load(ctx, tok); err != nil {
				t.Fatalf("a minute before the absolute limit: Load = %v", err)
			}
			f.clk.Add(time.Minute)
			if _, err := m.Load(ctx, tok); !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("at the absolute limit: Load = %v, want ErrNotFound", err)
			}
		})
	}
}

// TestAbsoluteLifetimeEndsOlderRecords: records written with a later
// Expires (before the limit existed) are clamped, hidden and deleted.
func TestAbsoluteLifetimeEndsOlderRecords(t *testing.T) {
	f := newFixture(t) // f.m: absolute lifetime of a year
	ctx := context.Background()
	tok, s := mustCreate(t, f.m, sampleData())
	f.clk.Add(25 * day)
	if s, err := f.m.Load(ctx, tok); err != nil || !s.Expires.Equal(t0.Add(55*day)) {
		t.Fatalf("Load = %v, %v; want Expires at 55 days", s, err)
	}
	m := lifecycleManager(t, f.store, f.clk, session.ManagerOptions{}) // the default 30 days
	f.clk.Add(time.Hour)
	got, err := m.Load(ctx, tok)
	if err != nil || !got.Expires.Equal(t0.Add(session.DefaultAbsoluteLifetime)) {
		t.Fatalf("Load = %v, %v; want Expires clamped to 30 days", got, err)
	}
	list, err := m.List(ctx, s.UserKey)
	if err != nil || len(list) != 1 || !list[0].Expires.Equal(t0.Add(session.DefaultAbsoluteLifetime)) {
		t.Fatalf("List = %+v, %v; want one session expiring at 30 days", list, err)
	}
	f.clk.Set(t0.Add(session.DefaultAbsoluteLifetime))
	if list, err := m.List(ctx, s.UserKey); err != nil || len(list) != 0 {
		t.Fatalf("List past the limit = %+v, %v; want none", list, err)
	}
	if _, err := m.Load(ctx, tok); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load past the limit = %v, want ErrNotFound", err)
	}
	if _, err := f.store.Get(ctx, s.ID); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("store Get = %v: the record outlived its absolute lifetime", err)
	}
}

// TestDeleteSID is a sid-only back-channel logout on every backend: exactly
// the sessions of that IdP session end.
func TestDeleteSID(t *testing.T) {
	backends := map[string]func(t *testing.T) session.Store{
		"memstore": func(t *testing.T) session.Store {
			s := memstore.New(memstore.Options{})
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		"boltstore": func(t *testing.T) session.Store {
			s, err := boltstore.Open(filepath.Join(t.TempDir(), "s.db"), boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		"redisstore": func(t *testing.T) session.Store {
			srv := redistest.Start(t)
			s, err := redisstore.New(redisstore.Options{URL: srv.URL, Prefix: srv.Prefix})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	}
	for name, newStore := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := testclock.New(time.Now()) // the stores expire by the wall clock
			m := lifecycleManager(t, newStore(t), clk, session.ManagerOptions{CacheTTL: time.Minute})
			alice, bob := userData("cognito", "alice"), userData("cognito", "bob")
			aliceS1a := create(t, m, alice, "S1")
			aliceS1b := create(t, m, alice, "S1") // a second app session of IdP session S1
			aliceS2 := create(t, m, alice, "S2")
			aliceNone := create(t, m, alice, "")
			bobS3 := create(t, m, bob, "S3")
			googleS1 := create(t, m, userData("google", "alice"), "S1")
			all := []string{aliceS1a, aliceS1b, aliceS2, aliceNone, bobS3, googleS1}
			for _, tok := range all { // cached in m
				if _, err := m.Load(ctx, tok); err != nil {
					t.Fatal(err)
				}
			}

			n, err := m.DeleteSID(ctx, session.SIDKey("cognito", "S1"))
			if err != nil || n != 2 {
				t.Fatalf("DeleteSID = %d, %v; want 2", n, err)
			}
			for _, tok := range all {
				_, err := m.Load(ctx, tok) // through the cache
				wantGone := tok == aliceS1a || tok == aliceS1b
				if gone := errors.Is(err, session.ErrNotFound); gone != wantGone || (!gone && err != nil) {
					t.Errorf("session %s…: Load = %v, want gone=%v", tok[:6], err, wantGone)
				}
			}
			if n, err := m.DeleteSID(ctx, session.SIDKey("cognito", "S1")); err != nil || n != 0 {
				t.Fatalf("DeleteSID again = %d, %v; want 0", n, err)
			}
		})
	}
}

func TestManagerMarkUsed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	exp := t0.Add(10 * time.Minute)
	for i, want := range []bool{false, true} {
		if seen, err := f.m.MarkUsed(ctx, "flow:x", exp); seen != want || err != nil {
			t.Fatalf("MarkUsed #%d = %v, %v; want %v", i+1, seen, err, want)
		}
	}
	if f.store.Len() != 0 {
		t.Fatalf("MarkUsed stored %d session records", f.store.Len())
	}
	if err := f.m.UnmarkUsed(ctx, "flow:x"); err != nil {
		t.Fatal(err)
	}
	if seen, err := f.m.MarkUsed(ctx, "flow:x", exp); seen || err != nil {
		t.Fatalf("MarkUsed after UnmarkUsed = %v, %v; want a first use", seen, err)
	}
	if _, err := f.m.MarkUsed(ctx, "", exp); err == nil || errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("MarkUsed(\"\") = %v; want a plain error", err)
	}
	_ = f.store.Close()
	if seen, err := f.m.MarkUsed(ctx, "flow:y", exp); seen || !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("MarkUsed on a closed store = %v, %v; want ErrUnavailable", seen, err)
	}
	if err := f.m.UnmarkUsed(ctx, "flow:y"); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("UnmarkUsed on a closed store = %v; want ErrUnavailable", err)
	}
}
