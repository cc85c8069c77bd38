package config

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// Server holds the settings of the authbff binary's own HTTP server (the
// library never listens).
type Server struct {
	// Host is the listen host (HOST): "" is every interface. Unset, it is
	// 127.0.0.1 while the development IdP runs (anyone who reaches it signs
	// in as any demo user), every interface otherwise.
	Host string
	// HostSet is true when HOST was given.
	HostSet bool
	// ReadTimeout bounds reading one request, body included
	// (HTTP_READ_TIMEOUT, default 30 s): a trickling body is cut off.
	ReadTimeout time.Duration
	// MaxConnections bounds the connections served at once
	// (HTTP_MAX_CONNECTIONS, default 4096); more wait in the accept queue.
	// Idle keep-alive connections are closed first when it comes near.
	MaxConnections int
	// IdleTimeout closes a keep-alive connection idle this long
	// (HTTP_IDLE_TIMEOUT, default 30 s).
	IdleTimeout time.Duration
	// DrainDelay is how long, after SIGTERM, /readyz answers 503 while the
	// listener still takes requests (SHUTDOWN_DRAIN_DELAY, default 2 s), so
	// a load balancer stops sending new ones first. Its default is 0 when
	// no load balancer can be in front: the development IdP runs, or HOST
	// is a loopback address (a quick restart then finds the port free).
	DrainDelay time.Duration
	// ShutdownTimeout is how long in-flight requests may still run after
	// the drain delay (SHUTDOWN_TIMEOUT, default 35 s: more than the API
	// proxy's 30 s upstream timeout).
	ShutdownTimeout time.Duration
}

// ListenAddr is host:port to listen on.
func (c *Config) ListenAddr() string {
	return net.JoinHostPort(c.Server.Host, strconv.Itoa(c.Port))
}

// listen fills Server (after providers: the default host depends on DevIdP).
func (l *loader) listen(c *Config) {
	s := &c.Server
	if l.env.isSet("HOST") {
		s.Host, s.HostSet = l.env.get("HOST"), true
		if s.Host != "" && net.ParseIP(s.Host) == nil && s.Host != "localhost" {
			l.probs.add("HOST", fmt.Sprintf("%q is not an IP address", s.Host),
				"set it to the address to listen on, e.g. 127.0.0.1, 0.0.0.0 or ::")
		}
	} else if c.DevIdP {
		s.Host = "127.0.0.1"
	}
	s.ReadTimeout = l.durationVar("HTTP_READ_TIMEOUT", 30*time.Second)
	s.IdleTimeout = l.durationVar("HTTP_IDLE_TIMEOUT", 30*time.Second)
	drain := 2 * time.Second
	if c.DevIdP || (s.Host != "" && isLoopback(s.Host)) {
		drain = 0
	}
	s.DrainDelay = l.durationVar("SHUTDOWN_DRAIN_DELAY", drain)
	s.ShutdownTimeout = l.durationVar("SHUTDOWN_TIMEOUT", 35*time.Second)
	s.MaxConnections = 4096
	if v := l.env.get("HTTP_MAX_CONNECTIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			l.probs.add("HTTP_MAX_CONNECTIONS", fmt.Sprintf("%q is not a positive number", v), "set it to the most connections to serve at once, e.g. 4096")
		} else {
			s.MaxConnections = n
		}
	}
	if s.ReadTimeout <= 0 {
		l.probs.add("HTTP_READ_TIMEOUT", "must be positive", "give a duration such as 30s")
		s.ReadTimeout = 30 * time.Second
	}
	if s.IdleTimeout <= 0 {
		l.probs.add("HTTP_IDLE_TIMEOUT", "must be positive", "give a duration such as 30s")
		s.IdleTimeout = 30 * time.Second
	}
}

// Loopback reports whether host (an IP or "localhost") is a loopback name.
func Loopback(host string) bool { return isLoopback(host) }
