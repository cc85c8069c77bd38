// Command hooks runs authbff with Go hooks, the library's version of
// NextAuth's callbacks and events: a sign-in hook that refuses one address
// (callbacks.signIn returning false), a session hook that adds a field to
// the session JSON (callbacks.session) and an event hook that writes an
// audit line per event (events). Hooks (hooks.go) builds them.
//
// It runs on http://localhost:3000 against the embedded development IdP:
//
//	cd examples/hooks && go run .
package main

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/authbff/authbff/bff"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := bff.OptionsFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	if o.URL == "" {
		o.URL = "http://localhost:3000"
	}
	o.DevIdP = true
	Hooks(&o, func(e bff.Event) {
		log.Printf("audit: %s provider=%s sub=%s session=%s reason=%s", e.Kind, e.Provider, e.Sub, e.Session, e.Reason)
	})
	b, err := bff.New(ctx, o)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:3000")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: b.Handler()}
	go func() { <-ctx.Done(); _ = srv.Shutdown(context.Background()) }()
	log.Printf("hooks: listening on %s", o.URL)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
