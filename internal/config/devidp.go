package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// DevIdPCommand is the configuration of `authbff devidp`, the development
// IdP run alone (for benchmarks): DEVIDP_* variables, from the environment
// and the dotenv files like every other setting.
type DevIdPCommand struct {
	// Port is DEVIDP_PORT (default 9229).
	Port int
	// Host is DEVIDP_HOST, the address listened on (default 127.0.0.1).
	// Anyone who reaches the IdP signs in as any demo user: another address
	// is for a container whose port is published on loopback only (see
	// docker-compose.yml).
	Host string
	// ClientID and ClientSecret are the one app client (DEVIDP_CLIENT_ID,
	// default authbff-dev; DEVIDP_CLIENT_SECRET, default none: a public client).
	ClientID, ClientSecret string
	// RedirectURIs and LogoutURIs are the client's allowed callback and
	// sign-out URLs (DEVIDP_REDIRECT_URIS, DEVIDP_LOGOUT_URIS, comma-separated).
	RedirectURIs, LogoutURIs []string
	// LogLevel and LogFormat as for the server.
	LogLevel, LogFormat string
}

// LoadDevIdPCommand reads the DEVIDP_* variables (and LOG_LEVEL,
// LOG_FORMAT); every problem at once.
func LoadDevIdPCommand(src Source) (*DevIdPCommand, error) {
	l := &loader{}
	l.env = newEnv(src, &l.probs)
	c := &DevIdPCommand{Port: 9229, Host: "127.0.0.1", ClientID: "authbff-dev", LogLevel: "info", LogFormat: "text"}
	if v := l.env.get("DEVIDP_HOST"); v != "" {
		if net.ParseIP(v) == nil && v != "localhost" {
			l.probs.add("DEVIDP_HOST", fmt.Sprintf("%q is not an IP address", v), "set it to the address to listen on, e.g. 127.0.0.1 or 0.0.0.0 (in a container)")
		} else {
			c.Host = v
		}
	}
	if v := l.env.get("DEVIDP_PORT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			l.probs.add("DEVIDP_PORT", fmt.Sprintf("%q is not a port number", v), "set it to 1-65535")
		} else {
			c.Port = n
		}
	}
	if v := l.env.get("DEVIDP_CLIENT_ID"); v != "" {
		c.ClientID = v
	}
	c.ClientSecret = l.env.get("DEVIDP_CLIENT_SECRET")
	c.RedirectURIs = splitList(l.env.get("DEVIDP_REDIRECT_URIS"))
	c.LogoutURIs = splitList(l.env.get("DEVIDP_LOGOUT_URIS"))
	if v := l.env.get("LOG_LEVEL"); v != "" {
		c.LogLevel = v
	}
	if v := l.env.get("LOG_FORMAT"); v != "" {
		c.LogFormat = v
	}
	if len(l.probs) > 0 {
		return c, &l.probs
	}
	return c, nil
}

// devIdP fills DevIdPOptIn and DevIdPAllowCIDRs, and refuses the
// development IdP in production unless it was asked for (after providers).
func (l *loader) devIdP(c *Config) {
	if b := l.boolVar("AUTHBFF_DEV_IDP"); b != nil {
		c.DevIdPOptIn = *b
	}
	for _, s := range splitList(l.env.get("DEVIDP_ALLOW_CIDRS")) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				l.probs.add("DEVIDP_ALLOW_CIDRS", fmt.Sprintf("%q is neither an IP address nor a CIDR", s),
					"list the networks whose clients may use the development IdP, e.g. 172.17.0.0/16 (a Docker bridge)")
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		c.DevIdPAllowCIDRs = append(c.DevIdPAllowCIDRs, p.Masked().String())
	}
	if c.DevIdP && !c.DevIdPOptIn && strings.EqualFold(l.env.get("NODE_ENV"), "production") {
		l.probs.add("NODE_ENV", "is production, but no identity provider is configured: authbff would run its development IdP, "+
			"where anyone who reaches it signs in as any demo user (an admin included) without a password",
			"configure a provider - COGNITO_CLIENT_ID, COGNITO_CLIENT_SECRET and COGNITO_DOMAIN (or COGNITO_ISSUER), "+
				"or AUTH_<ID>_ISSUER, AUTH_<ID>_ID and AUTH_<ID>_SECRET - and check those variables are spelled right and their secrets mounted; "+
				"to run the development IdP on purpose, set AUTHBFF_DEV_IDP=1")
	}
}
