package refresh_test

import (
	"errors"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/refresh"
	"github.com/authbff/authbff/internal/session"
)

// TestCloseWaitsForRunningRefresh: Close returns only once the refresh in
// flight has stored its tokens (a refresh cut short could lose a rotated
// refresh token), and afterwards no refresh starts: callers get an
// "unavailable" error, never a sign-out.
func TestCloseWaitsForRunningRefresh(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.idp.Delay.Store(int64(300 * time.Millisecond))
	done := make(chan error, 1)
	go func() {
		s := *f.sess
		_, err := f.co.IfDue(ctx(t), f.token, &s)
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for f.idp.Attempts.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the refresh grant never reached the IdP")
		}
		time.Sleep(time.Millisecond)
	}
	f.co.Close()
	stored, err := f.mgr.Load(ctx(t), f.token)
	if err != nil || stored == nil {
		t.Fatalf("Load after Close: %v, %v", stored, err)
	}
	if stored.Data.Tokens.AccessToken == f.sess.Data.Tokens.AccessToken {
		t.Fatal("Close returned before the running refresh stored its tokens")
	}
	if err := <-done; err != nil {
		t.Fatalf("the refresh running at Close failed: %v", err)
	}
	s := *stored
	s.Data.Tokens.AccessExpiry = time.Now() // due again
	out, err := f.co.IfDue(ctx(t), f.token, &s)
	if !errors.Is(err, refresh.ErrClosed) || !errors.Is(err, session.ErrUnavailable) || out != nil {
		t.Fatalf("IfDue after Close = %v, %v; want ErrClosed (unavailable)", out, err)
	}
	if n := f.idp.Attempts.Load(); n != 1 {
		t.Fatalf("%d refresh grants, want 1 (none after Close)", n)
	}
	f.co.Close() // idempotent
}
