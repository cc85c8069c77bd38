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

	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/devidp"
)

// sessionsCmd is `authbff sessions revoke --sub <sub> [--provider <id>]`:
// it ends every session of a user, through the running server's admin
// endpoint when one answers, else in the store directly when that is safe
// (see revokeUser). src is the configuration, the server's own.
func sessionsCmd(ctx context.Context, src config.Source, args []string, stdout, stderr io.Writer) int {
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
	if *sub == "" || *prov == "" {
		fmt.Fprintln(stderr, "authbff sessions revoke: --sub and --provider must not be empty")
		return 2
	}
	o, cfg, err := loadSettings(src)
	if err != nil {
		fmt.Fprintf(stderr, "authbff: configuration:\n%v\n", err)
		return 1
	}
	return revokeUser(ctx, o, cfg.MetricsAddr, *prov, *sub, stdout, stderr)
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
		Logger: newLogger(c.LogLevel, c.LogFormat),
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
