// Command authbff serves the NextAuth.js REST contract for single-page apps,
// keeping OAuth tokens server-side. Run it with no configuration to get the
// embedded development IdP and a persistent embedded session store.
//
// Usage:
//
//	authbff [serve]            run the server (default)
//	authbff doctor             check the configuration and each provider (callback URL, client credentials)
//	authbff devidp             run only the development IdP (for benchmarks)
//	authbff version            print the version (also --version)
//	authbff sessions revoke --sub <sub> [--provider cognito]
//	                            end every session of a user (through the running
//	                            server's admin endpoint on METRICS_ADDR)
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/authbff/authbff/internal/config"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "serve":
		return serve(ctx, stderr)
	case "sessions":
		return sessionsCmd(ctx, config.FromOS(), args, stdout, stderr)
	case "doctor":
		return doctorCmd(ctx, stdout, stderr)
	case "devidp":
		return devidpCmd(ctx, args, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "authbff "+version())
		return 0
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: authbff [serve | doctor | devidp | version | sessions revoke --sub <sub> [--provider <id>]]")
		return 0
	}
	fmt.Fprintf(stderr, "authbff: unknown command %q (try: serve, doctor, devidp, version, sessions revoke --sub <sub>)\n", cmd)
	return 2
}

func serve(ctx context.Context, stderr io.Writer) int {
	m, err := NewMain(Options{Source: config.FromOS()})
	if err != nil {
		fmt.Fprintf(stderr, "authbff: cannot start:\n%v\n", err)
		return 1
	}
	defer m.Close()
	if err := m.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "authbff: %v\n", err)
		return 1
	}
	return 0
}

// version is the module version (go install ...@v1.2.3) or the VCS
// revision the binary was built from (go build in a clone), with "+dirty"
// for uncommitted changes.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	var rev, dirty, at string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		case "vcs.time":
			at = s.Value
		}
	}
	if rev != "" && (v == "" || v == "(devel)") {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v = "devel " + rev + dirty
		if at != "" {
			v += " " + at
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v + " " + bi.GoVersion
}
