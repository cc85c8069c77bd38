package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/authbff/authbff/internal/config"
)

// readme is where every setting is documented.
const readme = "https://github.com/authbff/authbff#configuration"

// invocation holds what a command's flags say.
type invocation struct {
	port, host    string // serve: --port, --host ("" when not given)
	sub, provider string // sessions revoke: --sub, --provider
	json          bool   // doctor: --json
}

// command is one `authbff <name>`.
type command struct {
	name    string
	sub     string // a word that must follow name ("revoke"), or ""
	usage   string // the synopsis
	summary string // one line, in the command list
	about   string // what it does, for its help
	flags   func(fs *flag.FlagSet, inv *invocation)
	check   func(inv *invocation) error // after the flags parse; nil: none
	run     func(ctx context.Context, inv *invocation, src config.Source, stdout, stderr io.Writer) int
}

// commands lists every command, in the order help shows them.
var commands = []*command{
	{
		name: "serve", usage: "authbff [serve] [--port N] [--host ADDR]",
		summary: "run the server (the default command)",
		about: `Serves NextAuth.js's REST contract under /api/auth, the API proxy under
/api/proxy and the SPA on HOST:PORT (default port 3000), and metrics, health and
the admin endpoint on METRICS_ADDR (default 127.0.0.1:9464). With no provider
configured it runs the embedded development IdP and listens on loopback only.
On SIGINT or SIGTERM it drains (SHUTDOWN_DRAIN_DELAY), then lets in-flight
requests finish (SHUTDOWN_TIMEOUT). On SIGHUP it reads the secret files
(<NAME>_FILE) again and rotates the secrets that changed, the old
NEXTAUTH_SECRET kept as a previous one.`,
		flags: func(fs *flag.FlagSet, inv *invocation) {
			fs.Func("port", "listen on port `N` (overrides PORT; 0 picks a free port)", func(v string) error {
				if n, err := strconv.Atoi(v); err != nil || n < 0 || n > 65535 {
					return errors.New("not a port number (0-65535)")
				}
				inv.port = v
				return nil
			})
			fs.Func("host", "listen on `ADDR`, an IP address or localhost (overrides HOST; 0.0.0.0 for every interface)", func(v string) error {
				if v == "" {
					return errors.New("empty")
				}
				inv.host = v
				return nil
			})
		},
		run: serveCmd,
	},
	{
		name: "doctor", usage: "authbff doctor [--json]",
		summary: "check the configuration and each identity provider, then exit",
		about: `Reads the configuration (every problem at once), then asks each identity
provider what only it can tell: its discovery document, whether the callback URL
<NEXTAUTH_URL>/api/auth/callback/<id> is registered, and whether the token
endpoint accepts the client id and secret and the authorization code grant;
then the session store (Redis: PING and maxmemory-policy noeviction) and each
upstream's reachability. Prints one ok/FAIL/WARN line per finding, each failure
ending with "fix: ..." (network errors summarised, URLs shortened, no line over
300 characters), and exits 1 when any fails. It starts no server.`,
		flags: func(fs *flag.FlagSet, inv *invocation) {
			fs.BoolVar(&inv.json, "json", false, `print one JSON object {"ok", "checks": [{"status", "scope", "message", "fix"}]} instead of lines`)
		},
		run: doctorCmd,
	},
	{
		name: "devidp", usage: "authbff devidp",
		summary: "run only the development IdP (for benchmarks)",
		about: `Runs the embedded, Cognito-shaped development IdP alone on
127.0.0.1:DEVIDP_PORT (default 9229), so a benchmark keeps its RSA signing out
of authbff's process. Not for production. Its variables: DEVIDP_PORT,
DEVIDP_CLIENT_ID (default authbff-dev), DEVIDP_CLIENT_SECRET,
DEVIDP_REDIRECT_URIS, DEVIDP_LOGOUT_URIS, LOG_LEVEL, LOG_FORMAT.`,
		run: devidpCmd,
	},
	{
		name: "sessions", sub: "revoke", usage: "authbff sessions revoke --sub SUB [--provider ID]",
		summary: "end every session of a user",
		about: `Ends every session of a user and revokes its refresh token at the IdP:
through the running server's admin endpoint on METRICS_ADDR (authenticated with
a credential derived from NEXTAUTH_SECRET), else directly in SESSION_STORE where
that reaches the sessions (Redis, PostgreSQL; a bolt file no server holds). Run it with the
server's configuration. It exits 1 whenever sessions may still live.`,
		flags: func(fs *flag.FlagSet, inv *invocation) {
			fs.StringVar(&inv.sub, "sub", "", "`SUB`, the user's subject: the ID token's sub claim (required)")
			fs.StringVar(&inv.provider, "provider", "cognito", "`ID` of the provider the user signed in with")
		},
		check: func(inv *invocation) error {
			if inv.sub == "" || inv.provider == "" {
				return errors.New("--sub and --provider must not be empty")
			}
			return nil
		},
		run: sessionsCmd,
	},
	{
		name: "version", usage: "authbff version",
		summary: "print the version (also --version)",
		about:   `Prints the module version (go install ...@v1.2.3) or the git revision the binary was built from, and the Go version.`,
		run:     versionCmd,
	},
}

// lookup returns the command called name, nil if none.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// parse reads args (what follows the command's name). ok is false when
// the command must not run: help was asked for (code 0, printed to
// stdout) or args are wrong (code 2, said on stderr).
func (c *command) parse(args []string, stdout, stderr io.Writer) (inv *invocation, code int, ok bool) {
	inv = &invocation{}
	if c.sub != "" {
		switch {
		case len(args) > 0 && isHelp(args[0]):
			c.help(stdout)
			return nil, 0, false
		case len(args) == 0 || args[0] != c.sub:
			fmt.Fprintf(stderr, "authbff %s: expected %q\nUsage: %s\n", c.name, c.sub, c.usage)
			return nil, 2, false
		}
		args = args[1:]
	}
	fs := c.flagSet(inv)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		c.help(stdout)
		return nil, 0, false
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err == nil && c.check != nil {
		err = c.check(inv)
	}
	if err != nil {
		fmt.Fprintf(stderr, "authbff %s: %v\nRun 'authbff %s --help' for usage.\n", c.name, flagError(err, args), c.name)
		return nil, 2, false
	}
	return inv, 0, true
}

// flagSet is c's flags, bound to inv, printing nothing itself.
func (c *command) flagSet(inv *invocation) *flag.FlagSet {
	fs := flag.NewFlagSet("authbff "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if c.flags != nil {
		c.flags(fs, inv)
	}
	return fs
}

// flagError says "unknown flag --bogus" with the flag as it was typed.
func flagError(err error, args []string) error {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !ok {
		return err
	}
	for _, a := range args {
		if k, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); k == name && strings.HasPrefix(a, "-") {
			return fmt.Errorf("unknown flag %s", strings.SplitN(a, "=", 2)[0])
		}
	}
	return fmt.Errorf("unknown flag -%s", name)
}

// help prints c's help: synopsis, what it does, its flags, and where the
// settings are.
func (c *command) help(w io.Writer) {
	fmt.Fprintf(w, "authbff %s: %s\n\nUsage:\n  %s\n\n%s\n\nFlags:\n", c.name, c.summary, c.usage, c.about)
	c.flagSet(&invocation{}).VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		def := ""
		if f.DefValue != "" {
			def = " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "  --%s %s\n      %s%s\n", f.Name, arg, usage, def)
	})
	fmt.Fprintf(w, "  -h, --help\n      print this help\n\n")
	settings(w)
}

// settings says that the configuration is the environment.
func settings(w io.Writer) {
	fmt.Fprintf(w, `Settings are environment variables (NEXTAUTH_URL, NEXTAUTH_SECRET,
COGNITO_CLIENT_ID, SESSION_STORE, PORT, ...), also read from .env.local and .env
in the working directory (the environment wins). Every variable is in the
README's "Configuration" table: %s
`, readme)
}

// helpCmd is `authbff help [command]` (and --help).
func helpCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && !isHelp(args[0]) {
		c := lookup(args[0])
		if c == nil {
			fmt.Fprintf(stderr, "authbff help: unknown command %q\nRun 'authbff help' for the commands.\n", args[0])
			return 2
		}
		c.help(stdout)
		return 0
	}
	fmt.Fprintf(stdout, `authbff serves NextAuth.js's REST contract for a single-page app, keeping the
OAuth tokens server-side. With no configuration it runs an embedded development
IdP and an embedded session store on http://localhost:3000.

Usage:
  authbff [command] [flags]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(stdout, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(stdout, "  %-9s %s\n\n", "help", "print this help, or a command's: authbff help <command>")
	fmt.Fprintf(stdout, "Run 'authbff <command> --help' for a command's flags.\n\n")
	settings(stdout)
	return 0
}
