package config

import (
	"fmt"
	"strconv"
)

// DevIdPCommand is the configuration of `authbff devidp`, the development
// IdP run alone (for benchmarks): DEVIDP_* variables, from the environment
// and the dotenv files like every other setting.
type DevIdPCommand struct {
	// Port is DEVIDP_PORT (default 9229); the IdP listens on 127.0.0.1.
	Port int
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
	c := &DevIdPCommand{Port: 9229, ClientID: "authbff-dev", LogLevel: "info", LogFormat: "text"}
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
