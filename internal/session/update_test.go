package session_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/authbff/authbff/internal/session"
)

// TestUpdateConcurrentKeysAllLand: writers of different keys at once each
// retry on a conflict, so no write is lost; an ended session stays ended.
func TestUpdateConcurrentKeysAllLand(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	token, _ := mustCreate(t, f.m, sampleData())
	var wg sync.WaitGroup
	const n = 6 // each retries at most 8 times: stay well within
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.m.Update(ctx, token, func(d *session.Data) bool {
				if d.Extra == nil {
					d.Extra = map[string]string{}
				}
				d.Extra[fmt.Sprint("k", i)] = `"v"`
				return true
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s, err := f.m.LoadFresh(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Data.Extra) != n || s.Data.User.Name != sampleData().User.Name {
		t.Fatalf("after %d updates: %v (user %+v)", n, s.Data.Extra, s.Data.User)
	}
	if err := f.m.Delete(ctx, token); err != nil {
		t.Fatal(err)
	}
	_, err = f.m.Update(ctx, token, func(d *session.Data) bool { d.Extra = map[string]string{"x": "1"}; return true })
	if !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("update of an ended session: %v, want ErrNotFound", err)
	}
	if _, err := f.m.LoadFresh(ctx, token); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the ended session came back: %v", err)
	}
}
