package main

import (
	"context"
	"fmt"
	"io"

	"github.com/authbff/authbff/api"
	"github.com/authbff/authbff/internal/bffhook"
	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/doctor"
)

// doctorCmd is `authbff doctor`: it checks the configuration and, for every
// provider, what only the IdP can tell - discovery, the registered callback
// URL and the client credentials - and a PostgreSQL session store
// (connectivity, schema version, privileges), and prints each finding with
// its fix.
func doctorCmd(ctx context.Context, _ *invocation, src config.Source, stdout, _ io.Writer) int {
	o, _, err := api.LoadSettings(src)
	if err != nil {
		fmt.Fprintf(stdout, "FAIL configuration:\n%v\n", err)
		return 1
	}
	storeOK := doctor.CheckStore(ctx, o.StoreSpec, stdout)
	if o.DevIdP {
		fmt.Fprintln(stdout, "ok   no provider configured: the embedded development IdP is used (not for production)")
		if !storeOK {
			return 1
		}
		return 0
	}
	set, providers, err := bffhook.Resolve(o)
	if err != nil {
		fmt.Fprintf(stdout, "FAIL configuration:\n%v\n", err)
		return 1
	}
	if !doctor.Run(ctx, set, providers, nil, stdout) || !storeOK {
		return 1
	}
	if !doctor.CheckUpstreams(ctx, set, providers, doctorUpstreams(o), nil, stdout) {
		return 1 // an upstream's token policy (doctor_upstreams.go)
	}
	return 0
}
