package session_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
	"github.com/authbff/authbff/internal/testclock"
)

// revocations records ManagerOptions.Revoke calls.
type revocations struct {
	mu  sync.Mutex
	got []string // provider + " " + refresh token
}

func (r *revocations) revoke(_ context.Context, provider, rt string) {
	r.mu.Lock()
	r.got = append(r.got, provider+" "+rt)
	r.mu.Unlock()
}

func (r *revocations) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(slices.Values(r.got))
}

// finalFixture is a Manager on a memstore whose ends are recorded.
func finalFixture(t *testing.T, o session.ManagerOptions) (*session.Manager, *revocations, *testclock.Clock) {
	t.Helper()
	clk := testclock.New(t0)
	st := memstore.New(memstore.Options{Now: clk.Now, CleanupInterval: -1})
	t.Cleanup(func() { _ = st.Close() })
	rv := &revocations{}
	o.Store, o.Secrets, o.Now, o.Revoke = st, [][]byte{secret(1)}, clk.Now, rv.revoke
	m, err := session.NewManager(o)
	if err != nil {
		t.Fatal(err)
	}
	return m, rv, clk
}

func dataFor(sub, rt string) session.Data {
	d := sampleData()
	d.Subject, d.User.ID = sub, sub
	d.Tokens.RefreshToken = rt
	return d
}

// TestWriteAfterEndIsRefused is the resurrection of issue 19: a refresh that
// read the session before it ended writes back afterwards.
func TestWriteAfterEndIsRefused(t *testing.T) {
	m, rv, _ := finalFixture(t, session.ManagerOptions{})
	ctx := context.Background()
	tok, _ := mustCreate(t, m, dataFor("alice", "RT-1"))
	inFlight, err := m.LoadFresh(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteID(ctx, inFlight.ID); err != nil {
		t.Fatal(err)
	}
	inFlight.Data.Tokens.RefreshToken = "RT-2"
	if err := m.Save(ctx, tok, inFlight); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Save after the end = %v, want ErrNotFound", err)
	}
	if _, err := m.Load(ctx, tok); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load after the refused write = %v, want ErrNotFound", err)
	}
	if list, _ := m.List(ctx, inFlight.UserKey); len(list) != 0 {
		t.Fatalf("the ended session is listed again: %v", list)
	}
	m.Close() // waits for the revocations
	if got := rv.list(); !slices.Equal(got, []string{"cognito RT-1"}) {
		t.Fatalf("revoked %v, want the ended session's RT-1", got)
	}
}

// TestStaleWriteIsRefused: two writers from one version, the second loses.
func TestStaleWriteIsRefused(t *testing.T) {
	m, _, _ := finalFixture(t, session.ManagerOptions{})
	ctx := context.Background()
	tok, _ := mustCreate(t, m, dataFor("alice", "RT-1"))
	a, _ := m.LoadFresh(ctx, tok)
	b, _ := m.LoadFresh(ctx, tok)
	a.Data.RefreshError = "x"
	if err := m.Save(ctx, tok, a); err != nil {
		t.Fatal(err)
	}
	b.Data.Tokens.AccessToken = "stale"
	if err := m.Save(ctx, tok, b); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Save from a stale version = %v, want ErrConflict", err)
	}
	got, err := m.LoadFresh(ctx, tok)
	if err != nil || got.Data.RefreshError != "x" || got.Data.Tokens.AccessToken == "stale" {
		t.Fatalf("stored session = %+v, %v; want the first write", got, err)
	}
}

// TestEveryEndRevokes: each way a session ends hands its latest refresh
// token (read from the record as it ended) to Revoke; a session without one
// revokes nothing.
func TestEveryEndRevokes(t *testing.T) {
	ctx := context.Background()
	t.Run("Delete", func(t *testing.T) {
		m, rv, _ := finalFixture(t, session.ManagerOptions{})
		tok, s := mustCreate(t, m, dataFor("alice", "RT-1"))
		s.Data.Tokens.RefreshToken = "RT-rotated"
		if err := m.Save(ctx, tok, s); err != nil {
			t.Fatal(err)
		}
		if err := m.Delete(ctx, tok); err != nil {
			t.Fatal(err)
		}
		m.Close()
		if got := rv.list(); !slices.Equal(got, []string{"cognito RT-rotated"}) {
			t.Fatalf("revoked %v, want the rotated token", got)
		}
	})
	t.Run("DeleteUser and DeleteSID", func(t *testing.T) {
		m, rv, _ := finalFixture(t, session.ManagerOptions{})
		mustCreate(t, m, dataFor("bob", "RT-b1"))
		mustCreate(t, m, dataFor("bob", "RT-b2"))
		_, c := mustCreate(t, m, dataFor("carol", "RT-c"))
		mustCreate(t, m, dataFor("dave", "")) // no refresh token
		if n, err := m.DeleteUser(ctx, session.UserKey("cognito", "bob")); n != 2 || err != nil {
			t.Fatalf("DeleteUser = %d, %v", n, err)
		}
		if n, err := m.DeleteSID(ctx, session.SIDKey("cognito", c.SID)); n != 2 || err != nil {
			t.Fatalf("DeleteSID = %d, %v (carol and dave share the fixture's sid)", n, err)
		}
		m.Close()
		if got := rv.list(); !slices.Equal(got, []string{"cognito RT-b1", "cognito RT-b2", "cognito RT-c"}) {
			t.Fatalf("revoked %v", got)
		}
	})
	t.Run("per-user cap", func(t *testing.T) {
		m, rv, clk := finalFixture(t, session.ManagerOptions{MaxPerUser: 2})
		for _, rt := range []string{"RT-1", "RT-2", "RT-3"} {
			mustCreate(t, m, dataFor("erin", rt))
			clk.Add(time.Second)
		}
		m.Close()
		if got := rv.list(); !slices.Equal(got, []string{"cognito RT-1"}) {
			t.Fatalf("revoked %v, want the least recently active session's token", got)
		}
	})
	t.Run("absolute lifetime", func(t *testing.T) {
		// A session made under a longer absolute lifetime is ended by a
		// Manager with a shorter one (a configuration change).
		clk := testclock.New(t0)
		st := memstore.New(memstore.Options{Now: clk.Now, CleanupInterval: -1})
		t.Cleanup(func() { _ = st.Close() })
		longer, err := session.NewManager(session.ManagerOptions{Store: st, Secrets: [][]byte{secret(1)}, Now: clk.Now,
			AbsoluteLifetime: 3 * time.Hour, MaxAge: 3 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := mustCreate(t, longer, dataFor("frank", "RT-f"))
		rv := &revocations{}
		shorter, err := session.NewManager(session.ManagerOptions{Store: st, Secrets: [][]byte{secret(1)}, Now: clk.Now,
			AbsoluteLifetime: time.Hour, MaxAge: 3 * time.Hour, Revoke: rv.revoke})
		if err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Hour + time.Second)
		if _, err := shorter.Load(ctx, tok); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Load past the absolute lifetime = %v", err)
		}
		shorter.Close()
		if got := rv.list(); !slices.Equal(got, []string{"cognito RT-f"}) {
			t.Fatalf("revoked %v", got)
		}
	})
	t.Run("the Revoke field needs the server secret, not the cookie", func(t *testing.T) {
		clk := testclock.New(t0)
		st := memstore.New(memstore.Options{Now: clk.Now, CleanupInterval: -1})
		t.Cleanup(func() { _ = st.Close() })
		m := newManager(t, st, clk, secret(1))
		_, s := mustCreate(t, m, dataFor("gina", "RT-SECRET-VALUE"))
		rec, err := st.Get(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Revoke) == 0 || strings.Contains(string(rec.Revoke), "RT-SECRET-VALUE") {
			t.Fatalf("Record.Revoke = %q: missing or readable", rec.Revoke)
		}
		// Another server secret cannot open it: nothing is revoked.
		rv := &revocations{}
		other, err := session.NewManager(session.ManagerOptions{Store: st, Secrets: [][]byte{secret(2)}, Now: clk.Now, Revoke: rv.revoke})
		if err != nil {
			t.Fatal(err)
		}
		if err := other.DeleteID(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		other.Close()
		if got := rv.list(); len(got) != 0 {
			t.Fatalf("a manager with another secret revoked %v", got)
		}
	})
}

// slowDeleteStore takes a moment to commit a Delete, during which readers
// still see the record, as bolt's readers see the last committed snapshot
// while a write transaction syncs the file.
type slowDeleteStore struct{ session.Store }

func (l slowDeleteStore) Delete(ctx context.Context, id string, until time.Time) (*session.Record, error) {
	time.Sleep(2 * time.Millisecond)
	return l.Store.Delete(ctx, id, until)
}

// TestSignOutRacedByCachedReaders: with the cache on, readers polling the
// same cookie while it is deleted never see it again once Delete returned.
func TestSignOutRacedByCachedReaders(t *testing.T) {
	for trial := range 10 {
		st := memstore.New(memstore.Options{CleanupInterval: -1})
		m, err := session.NewManager(session.ManagerOptions{Store: slowDeleteStore{st}, Secrets: [][]byte{secret(1)}, CacheTTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		tok, _, err := m.Create(ctx, dataFor("alice", "RT"), session.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		var ended atomic.Bool
		var after atomic.Int64 // signed-in answers to loads begun after Delete returned
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 48 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					begunAfter := ended.Load()
					if _, err := m.Load(ctx, tok); err == nil && begunAfter {
						after.Add(1)
					}
				}
			}()
		}
		time.Sleep(5 * time.Millisecond)
		if err := m.Delete(ctx, tok); err != nil {
			t.Fatal(err)
		}
		ended.Store(true)
		time.Sleep(20 * time.Millisecond)
		close(stop)
		wg.Wait()
		m.Close()
		_ = st.Close()
		if n := after.Load(); n != 0 {
			t.Fatalf("trial %d: %d signed-in loads begun after the sign-out returned", trial, n)
		}
	}
}
