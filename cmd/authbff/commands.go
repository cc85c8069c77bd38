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
	ln, err := net.Listen("tcp", net.JoinHostPort(c.Host, strconv.Itoa(c.Port)))
	if err != nil {
		fmt.Fprintf(stderr, "authbff devidp: %v\n", err)
		return 1
	}
	base := "http://" + ln.Addr().String()
	if a, ok := ln.Addr().(*net.TCPAddr); ok && a.IP.IsUnspecified() {
		// Every interface (DEVIDP_HOST=0.0.0.0, in a container): the
		// issuer names loopback, which the published port and the
		// containers sharing this one's network both reach.
		base = "http://127.0.0.1:" + strconv.Itoa(a.Port)
	}
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
	if !config.Loopback(c.Host) {
		fmt.Fprintf(stderr, "DEVIDP_HOST=%s: the development IdP listens beyond loopback; anyone who reaches it signs in as any demo user (publish its port on 127.0.0.1 only)\n", c.Host)
	}
	srv := &http.Server{Handler: idp, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "authbff devidp: %v\n", err)
		return 1
	}
	return 0
}
