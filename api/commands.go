package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/devidp"
)

// sessionsCmd is `authbff sessions revoke --sub <sub>`: it ends every session
// of a user in the configured store (embedded or Redis).
func sessionsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "revoke" {
		fmt.Fprintln(stderr, "usage: authbff sessions revoke --sub <sub> [--provider cognito]")
		return 2
	}
	fs := flag.NewFlagSet("sessions revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sub := fs.String("sub", "", "the user's subject (the ID token's sub claim)")
	prov := fs.String("provider", "cognito", "the provider id the user signed in with")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *sub == "" {
		fmt.Fprintln(stderr, "authbff sessions revoke: --sub is required")
		return 2
	}
	o, err := bff.OptionsFromEnv()
	if err != nil {
		fmt.Fprintf(stderr, "authbff: configuration:\n%v\n", err)
		return 1
	}
	store, err := bff.OpenStore(o.StoreSpec)
	if err != nil {
		fmt.Fprintf(stderr, "authbff: %v\n", err)
		return 1
	}
	defer store.Close()
	n, err := bff.EndUserSessions(ctx, store, *prov, *sub)
	if err != nil {
		fmt.Fprintf(stderr, "authbff: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "ended %d session(s) of %s|%s\n", n, *prov, *sub)
	return 0
}

// devidpCmd runs the development IdP alone (DEVIDP_PORT, default 9229, on
// 127.0.0.1), so a benchmark can keep its RSA signing out of authbff's
// process.
func devidpCmd(ctx context.Context, args []string, stderr io.Writer) int {
	c, err := config.LoadDevIdPCommand(config.FromOS())
	if err != nil {
		fmt.Fprintf(stderr, "authbff devidp: configuration:\n%v\n", err)
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(c.Port))
	if err != nil {
		fmt.Fprintf(stderr, "authbff devidp: %v\n", err)
		return 1
	}
	base := "http://" + ln.Addr().String()
	idp, err := devidp.New(devidp.Options{
		BaseURL: base,
		Clients: []devidp.Client{{ID: c.ClientID, Secret: c.ClientSecret,
			RedirectURIs: c.RedirectURIs, LogoutURLs: c.LogoutURIs}},
		Logger: bff.NewLogger(c.LogLevel, c.LogFormat),
	})
	if err != nil {
		fmt.Fprintf(stderr, "authbff devidp: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "development IdP - not for production: issuer %s\n", idp.Issuer())
	srv := &http.Server{Handler: idp, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "authbff devidp: %v\n", err)
		return 1
	}
	return 0
}
