package refresh_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/session"
)

// TestEndDuringRefreshIsFinal is issue 19's resurrection: the session ends
// while the IdP's answer to its refresh is on its way (the IdP has already
// issued the new tokens); when the answer arrives, the new
// tokens are dropped, the session stays ended, and every refresh token it
// held is revoked (the stored one by the end, a rotated one by the refresh).
func TestEndDuringRefreshIsFinal(t *testing.T) {
	for _, client := range []string{clientID, rotID} {
		t.Run(client, func(t *testing.T) {
			f := newFixture(t, fixtureOpts{client: client})
			orig := f.sess.Data.Tokens.RefreshToken
			f.idp.Late.Store(int64(400 * time.Millisecond))
			type result struct {
				s   *session.Session
				err error
			}
			done := make(chan result, 1)
			go func() {
				s, err := f.co.IfDue(ctx(t), f.token, f.sess)
				done <- result{s, err}
			}()
			for f.idp.Held.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
			if err := f.mgr.DeleteID(ctx(t), f.sess.ID); err != nil { // "End" in the session list
				t.Fatal(err)
			}
			r := <-done
			if r.err != nil || r.s != nil {
				t.Fatalf("IfDue after the end = %+v, %v; want nil, nil (signed out)", r.s, r.err)
			}
			if _, err := f.mgr.Load(ctx(t), f.token); !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("Load after the refresh landed = %v, want ErrNotFound", err)
			}
			if list, err := f.mgr.List(ctx(t), f.sess.UserKey); err != nil || len(list) != 0 {
				t.Fatalf("List = %v, %v; want the ended session gone", list, err)
			}
			f.mgr.Close() // waits for the revocations
			revoked := f.idp.RevokedRefreshTokens()
			if !slices.Contains(revoked, orig) {
				t.Fatalf("the session's refresh token was not revoked (revoked %d tokens)", len(revoked))
			}
			if client == rotID && len(slices.Compact(slices.Sorted(slices.Values(revoked)))) != 2 {
				t.Fatalf("rotating IdP: %d distinct tokens revoked, want the old and the new one", len(revoked))
			}
		})
	}
}
