package bff_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
)

// startHooked runs a dev-IdP BFF with o's hooks on loopback.
func startHooked(t *testing.T, o bff.Options) (string, *provLogs, *bff.BFF) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	logs := &provLogs{}
	o.URL, o.DevIdP, o.DataDir = base, true, t.TempDir()
	o.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(logs, t.Output()), nil))
	b, err := bff.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() {
		// Shutdown, not Close: a handler still running (the dev IdP
		// answering a revocation the per-user cap started) writes its
		// state into DataDir, which TempDir's cleanup then removes.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		b.Close()
	})
	return base, logs, b
}

// TestHookPanicsAreErrors (issue 23): a panicking sign-in hook refuses the
// sign-in (AccessDenied, no session) and is logged; a panicking session
// hook or event hook changes nothing and is logged; the server keeps
// serving.
func TestHookPanicsAreErrors(t *testing.T) {
	base, logs, _ := startHooked(t, bff.Options{
		OnSignIn: func(ctx context.Context, in bff.SignInInfo) (bff.SignInResult, error) {
			if in.User.Email == "grace@example.com" {
				panic("signin boom")
			}
			return bff.SignInResult{UserFields: map[string]any{"tier": "gold", "name": "Mallory"}}, nil
		},
		OnSession: func(ctx context.Context, s bff.SessionInfo) map[string]any { panic("session boom") },
		OnEvent:   func(ctx context.Context, e bff.Event) { panic("event boom") },
	})
	grace := shapeClient()
	if loc := devSignIn(t, grace, base, "grace"); !strings.Contains(loc, "error=AccessDenied") {
		t.Fatalf("grace with a panicking hook went to %q", loc)
	}
	if m, raw := shapeReadSession(t, grace, base); len(m) != 0 {
		t.Fatalf("grace has a session: %s", raw)
	}
	ada := shapeClient()
	if loc := devSignIn(t, ada, base, "ada"); strings.Contains(loc, "error") {
		t.Fatalf("ada went to %q", loc)
	}
	m, raw := shapeReadSession(t, ada, base)
	if u := user(m); u["tier"] != "gold" || u["name"] != "Ada Lovelace" {
		t.Fatalf("ada's session JSON %s: want user.tier gold and her own name", raw)
	}
	for _, want := range []string{"signin boom", "session boom", "event boom"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the panic %q was not logged", want)
		}
	}
}

// TestSessionEventsWithReasons: the event hook hears signed in and signed
// out once each, and a session ended by an administrator with its reason.
func TestSessionEventsWithReasons(t *testing.T) {
	var mu sync.Mutex
	var got []bff.Event
	base, _, b := startHooked(t, bff.Options{OnEvent: func(ctx context.Context, e bff.Event) {
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
	}})
	events := func() []bff.Event {
		mu.Lock()
		defer mu.Unlock()
		return append([]bff.Event(nil), got...)
	}
	c := shapeClient()
	devSignIn(t, c, base, "ada")
	signOut(t, c, base)
	ev := events()
	if len(ev) != 2 || ev[0].Kind != bff.EventSignedIn || ev[1].Kind != bff.EventSignedOut ||
		ev[0].Sub != demoSub(t, "ada") || ev[0].Session == "" || ev[0].Session != ev[1].Session {
		t.Fatalf("events %+v", ev)
	}
	devSignIn(t, shapeClient(), base, "ada") // a new browser (the IdP remembers the last one)
	if n, err := b.EndUserSessions(context.Background(), "cognito", demoSub(t, "ada")); n != 1 || err != nil {
		t.Fatalf("EndUserSessions: %d %v", n, err)
	}
	ev = events()
	if last := ev[len(ev)-1]; len(ev) != 4 || last.Kind != bff.EventSessionEnded || last.Reason != "revoked" {
		t.Fatalf("events after the revoke %+v", ev)
	}
}

// TestSessionEndedByTheManager: a session ended without a request to end
// it - by the per-user cap, at a newer sign-in of the same user - is a
// session_ended event too, naming the user and the ended session.
func TestSessionEndedByTheManager(t *testing.T) {
	var mu sync.Mutex
	var got []bff.Event
	record := func(ctx context.Context, e bff.Event) {
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
	}
	ended := func() []bff.Event {
		mu.Lock()
		defer mu.Unlock()
		var out []bff.Event
		for _, e := range got {
			if e.Kind == bff.EventSessionEnded {
				out = append(out, e)
			}
		}
		return out
	}
	firstSignIn := func() string {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		for _, e := range got {
			if e.Kind == bff.EventSignedIn {
				return e.Session // the first sign-in's
			}
		}
		t.Fatal("no signed_in event")
		return ""
	}

	base, _, _ := startHooked(t, bff.Options{OnEvent: record, SessionMaxPerUser: 1})
	devSignIn(t, shapeClient(), base, "ada")
	firstID := firstSignIn()
	devSignIn(t, shapeClient(), base, "ada") // another browser
	ev := ended()
	if len(ev) != 1 || ev[0].Reason != "per_user_cap" || ev[0].Session != firstID ||
		ev[0].Sub != demoSub(t, "ada") || ev[0].Provider != "cognito" {
		t.Fatalf("session_ended events %+v, want one per_user_cap for %s", ev, firstID)
	}
}
