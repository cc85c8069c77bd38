package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/redistest"
)

// TestWatchSeesOtherInstancesWrites: a Save or Delete through one Store is
// announced to a Watch on another Store sharing the server and prefix, and
// the feed reports going down with Redis and coming back with it.
func TestWatchSeesOtherInstancesWrites(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newStore(t, srv, nil), newStore(t, srv, nil)
	got := make(chan string, 4)
	health := make(chan bool, 16)
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Watch(wctx, func(id string) { got <- id }, func(ok bool) { health <- ok })
	wantHealth := func(want bool) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case ok := <-health:
				if ok == want {
					return
				}
			case <-deadline:
				t.Fatalf("the feed never reported healthy=%v", want)
			}
		}
	}
	wantHealth(true)
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
	srv.Stop()
	wantHealth(false)
	srv.Restart()
	wantHealth(true)
	a2 := newStore(t, srv, nil)
	rec2 := record("u2", time.Hour)
	mustSave(t, a2, rec2)
	select {
	case id := <-got:
		if id != rec2.ID {
			t.Fatalf("after the restart: announced %q, want %q", id, rec2.ID)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no announcement after Redis came back")
	}
}
