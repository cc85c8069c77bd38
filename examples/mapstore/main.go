// Command mapstore runs authbff with a session store written outside its
// module: MapStore (store.go) implements the public store.Store contract of
// github.com/authbff/authbff/bff/store, passes its conformance suite
// (bff/store/storetest, see main_test.go) and is handed to bff.Options.Store.
//
// It runs on http://localhost:3000 against the embedded development IdP:
//
//	cd examples/mapstore && go run .
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
	o.DevIdP = true // no provider configured: the development IdP signs people in
	sessions := NewMapStore()
	defer sessions.Close() // the caller owns the store: closed after the BFF
	o.Store = sessions
	b, err := bff.New(ctx, o)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:3000") // loopback: the dev IdP is for this machine only
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: b.Handler()}
	lim := bff.HardenServer(srv, 0)
	go func() { <-ctx.Done(); _ = srv.Shutdown(context.Background()) }()
	log.Printf("mapstore: listening on %s", o.URL)
	if err := srv.Serve(lim.Listener(ln)); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
