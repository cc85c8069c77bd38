package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/redistest"
)

// TestWatchSeesOtherInstancesWrites: a Save or Delete through one Store is
// announced to a Watch on another Store sharing the server and prefix.
func TestWatchSeesOtherInstancesWrites(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newStore(t, srv, nil), newStore(t, srv, nil)
	got := make(chan string, 4)
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := b.Watch(wctx, func(id string) { got <- id }); err != nil {
		t.Fatal(err)
	}
	rec := record("u1", time.Hour)
	mustSave(t, a, rec)
	if err := a.Delete(ctx(t), rec.ID); err != nil {
		t.Fatal(err)
	}
	for _, what := range []string{"save", "delete"} {
		select {
		case id := <-got:
			if id != rec.ID {
				t.Fatalf("%s announced %q, want %q", what, id, rec.ID)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("%s was not announced", what)
		}
	}
}
