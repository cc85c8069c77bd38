package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/authbff/authbff/api"
	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/revoke"
)

// sessionsCmd is `authbff sessions revoke --sub <sub> [--provider <id>]`:
// it ends every session of a user, through the running server's admin
// endpoint when one answers, else in the store directly when that is safe
// (see revoke.User). src is the configuration, the server's own.
func sessionsCmd(ctx context.Context, inv *invocation, src config.Source, stdout, stderr io.Writer) int {
	o, cfg, err := api.LoadSettings(src)
	if err != nil {
		fmt.Fprintf(stderr, "authbff: configuration:\n%v\n", err)
		return 1
	}
	return revoke.User(ctx, o, cfg.MetricsAddr, inv.provider, inv.sub, stdout, stderr)
}

// devidpCmd runs the development IdP alone (DEVIDP_PORT, default 9229, on
// 127.0.0.1), so a benchmark can keep its RSA signing out of authbff's
// process.
func devidpCmd(ctx context.Context, _ *invocation, src config.Source, _, stderr io.Writer) int {
	c, err := config.LoadDevIdPCommand(src)
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
		Logger: api.NewLogger(c.LogLevel, c.LogFormat),
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
