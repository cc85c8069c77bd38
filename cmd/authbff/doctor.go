package main

import (
	"context"
	"errors"
	"io"

	"github.com/authbff/authbff/api"
	"github.com/authbff/authbff/internal/bffhook"
	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/doctor"
)

// doctorCmd is `authbff doctor [--json]`: it checks the configuration and,
// for every provider, what only the IdP can tell - discovery, the
// registered callback URL and the client credentials - then the session
// store (Redis: PING and maxmemory-policy; PostgreSQL: connectivity,
// schema version, privileges) and the upstreams, and prints each finding (a failure with its
// fix) as a line, or as JSON with --json.
func doctorCmd(ctx context.Context, inv *invocation, src config.Source, stdout, _ io.Writer) int {
	r := &doctor.Report{}
	defer func() {
		if inv != nil && inv.json {
			_ = r.WriteJSON(stdout)
		} else {
			r.WriteText(stdout)
		}
	}()
	configFailed := func(err error) int {
		var ps *config.Problems
		if errors.As(err, &ps) {
			for _, p := range *ps {
				r.Add(false, "config", p.Var+": "+p.Message, p.Fix)
			}
		} else {
			r.Add(false, "config", err.Error(), "")
		}
		return 1
	}
	// The warnings (variables set but never read) come from the loader
	// itself: LoadSettings drops them with a failed configuration.
	if cfg, _ := config.Load(src); cfg != nil {
		for _, w := range cfg.Warnings {
			r.Warn("config", w.Var+" "+w.Message, w.Fix)
		}
	}
	o, _, err := api.LoadSettings(src)
	if err != nil {
		return configFailed(err)
	}
	// The providers' checks, then the store's and the upstreams' (those
	// with the development IdP too: its sessions live in the same store).
	var policies func()
	if o.DevIdP {
		r.Add(true, "config", "no provider configured: the embedded development IdP is used (not for production)", "")
	} else {
		set, providers, err := bffhook.Resolve(o)
		if err != nil {
			return configFailed(err)
		}
		doctor.Check(ctx, r, set, providers, nil)
		// Each upstream's token policy (doctor_upstreams.go).
		policies = func() { doctor.CheckUpstreamPolicies(ctx, r, set, providers, doctorUpstreams(o), nil) }
	}
	doctor.CheckStore(ctx, r, o.StoreSpec)
	doctor.CheckUpstreams(ctx, r, nil, o.Upstreams)
	if policies != nil {
		policies()
	}
	if !r.OK() {
		return 1
	}
	return 0
}
