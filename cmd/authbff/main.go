// Command authbff serves the NextAuth.js REST contract for single-page apps,
// keeping OAuth tokens server-side. Run it with no configuration to get the
// embedded development IdP and a persistent embedded session store.
//
// Usage:
//
//	authbff [serve] [--port N] [--host H]  run the server (default)
//	authbff doctor              check the configuration and each provider (callback URL, client credentials)
//	authbff devidp              run only the development IdP (for benchmarks)
//	authbff sessions revoke --sub <sub> [--provider cognito]
//	                            end every session of a user (through the running
//	                            server's admin endpoint on METRICS_ADDR)
//	authbff version             print the version (also --version)
//	authbff help [command]      print help (also --help, and <command> --help)
//
// Settings are environment variables (and .env.local / .env files); the
// README lists every one. Install it with
//
//	go install github.com/authbff/authbff/cmd/authbff@latest
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
	os.Exit(run(os.Args[1:], config.FromOS(), os.Stdout, os.Stderr))
}

// run is the whole program: it runs the command args name with the
// configuration src and returns the exit status (0 ok, 1 failed, 2 usage).
// Nothing happens before the arguments parse: help and errors in them
// never touch the network.
func run(args []string, src config.Source, stdout, stderr io.Writer) int {
	name := "serve"
	if len(args) > 0 {
		switch a := args[0]; {
		case isHelp(a):
			return helpCmd(args[1:], stdout, stderr)
		case a == "--version" || a == "-version":
			name, args = "version", args[1:]
		case a != "" && a[0] == '-':
			// authbff --port 3305: flags of the default command.
		default:
			name, args = a, args[1:]
		}
	}
	if name == "help" {
		return helpCmd(args, stdout, stderr)
	}
	cmd := lookup(name)
	if cmd == nil {
		fmt.Fprintf(stderr, "authbff: unknown command %q\nRun 'authbff help' for the commands.\n", name)
		return 2
	}
	inv, code, ok := cmd.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cmd.run(ctx, inv, src, stdout, stderr)
}

// isHelp reports whether a asks for help.
func isHelp(a string) bool {
	return a == "-h" || a == "-help" || a == "--help"
}

// versionCmd prints "authbff <version>".
func versionCmd(_ context.Context, _ *invocation, _ config.Source, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, "authbff "+version())
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
