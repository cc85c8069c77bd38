package main

import (
	"context"
	"fmt"
	"io"

	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/doctor"
)

// doctorCmd is `authbff doctor`: it checks the configuration and, for every
// provider, what only the IdP can tell - discovery, the registered callback
// URL and the client credentials - and prints each finding with its fix.
func doctorCmd(ctx context.Context, _ *invocation, src config.Source, stdout, _ io.Writer) int {
	cfg, err := config.Load(src)
	if err != nil {
		fmt.Fprintf(stdout, "FAIL configuration:\n%v\n", err)
		return 1
	}
	if cfg.DevIdP {
		fmt.Fprintln(stdout, "ok   no provider configured: the embedded development IdP is used (not for production)")
		return 0
	}
	if !doctor.Run(ctx, cfg, nil, stdout) {
		return 1
	}
	return 0
}
