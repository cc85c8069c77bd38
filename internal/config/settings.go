package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

const secretFix = "set it to a random string of at least 32 bytes, e.g. `openssl rand -base64 32`"

// urlVar names the variable that gave the public URL.
func (l *loader) urlVar() string {
	if l.env.get("NEXTAUTH_URL") == "" && l.env.get("AUTH_URL") != "" {
		return "AUTH_URL"
	}
	return "NEXTAUTH_URL"
}

// boolVar reads an optional boolean; nil when unset or invalid.
func (l *loader) boolVar(k string) *bool {
	s := l.env.get(k)
	if s == "" {
		return nil
	}
	b, err := parseBool(s)
	if err != nil {
		l.probs.add(k, err.Error(), "set it to 1 or 0")
		return nil
	}
	return &b
}

// durationVar reads a duration in seconds or Go syntax, def when unset.
func (l *loader) durationVar(k string, def time.Duration) time.Duration {
	s := l.env.get(k)
	if s == "" {
		return def
	}
	d, err := parseDuration(s)
	if err != nil {
		l.probs.add(k, err.Error(), "give a number of seconds (2592000) or a Go duration (720h, 90s)")
		return def
	}
	return d
}

// server fills Port, URL, BasePath, Flavor, LogLevel, DataDir, SPADir,
// CORSOrigins and TrustedProxies.
func (l *loader) server(c *Config) {
	c.Port = 3000
	if s := l.env.get("PORT"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 65535 {
			l.probs.add("PORT", fmt.Sprintf("%q is not a port number", s), "set it to 1-65535 (0 picks a free port)")
		} else {
			c.Port = n
		}
	}

	c.URL = &url.URL{Scheme: "http", Host: "localhost:" + strconv.Itoa(c.Port)}
	uv := l.urlVar()
	if s := l.env.get(uv); s != "" {
		u, err := parseHTTPURL(s)
		if err != nil {
			l.probs.add(uv, err.Error(), "set it to the public origin users browse to, e.g. https://app.example.com "+
				"(a path other than / sets the base path, e.g. https://app.example.com/auth)")
		} else {
			u.Path = strings.TrimRight(u.Path, "/")
			u.RawPath = ""
			c.URL = u
			c.URLSet = true
		}
	}
	c.BasePath = "/api/auth"
	if c.URL.Path != "" {
		c.BasePath = c.URL.Path
	}

	c.Flavor = "v4"
	if s := l.env.get("AUTH_CLIENT_FLAVOR"); s != "" {
		switch f := strings.ToLower(s); f {
		case "v4", "v5":
			c.Flavor = f
		default:
			l.probs.add("AUTH_CLIENT_FLAVOR", fmt.Sprintf("%q is not a known flavor", s),
				"set it to v4 (next-auth 4.x, the default) or v5 (next-auth 5 beta / Auth.js)")
		}
	}

	c.LogFormat = "text"
	if s := l.env.get("LOG_FORMAT"); s != "" {
		if s != "text" && s != "json" {
			l.probs.add("LOG_FORMAT", fmt.Sprintf("%q is not a log format", s), "set it to text or json")
		} else {
			c.LogFormat = s
		}
	}
	c.MetricsAddr = "127.0.0.1:9464"
	if l.env.isSet("METRICS_ADDR") {
		c.MetricsAddr, c.MetricsAddrSet = l.env.get("METRICS_ADDR"), true
		if c.MetricsAddr != "" {
			if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
				l.probs.add("METRICS_ADDR", fmt.Sprintf("%q is not host:port", c.MetricsAddr),
					"set it to a listen address such as 127.0.0.1:9464 or :9464, or to nothing to turn metrics off")
			}
		}
	}
	c.LogLevel = "info"
	if s := l.env.get("LOG_LEVEL"); s != "" {
		switch lv := strings.ToLower(s); lv {
		case "debug", "info", "warn", "error":
			c.LogLevel = lv
		default:
			l.probs.add("LOG_LEVEL", fmt.Sprintf("%q is not a log level", s), "use debug, info, warn or error")
		}
	}

	c.DataDir = "./data"
	if s := l.env.get("AUTHBFF_DATA_DIR"); s != "" {
		c.DataDir = s
	}

	if s := l.env.get("SPA_DIR"); s != "" {
		if fi, err := os.Stat(s); err != nil || !fi.IsDir() {
			l.probs.add("SPA_DIR", fmt.Sprintf("%q is not a directory", s),
				"point it at the built SPA (e.g. dist/), or unset it to serve the embedded SPA")
		} else {
			c.SPADir = s
		}
	}

	for _, o := range splitList(l.env.get("CORS_ORIGINS")) {
		if o == "*" {
			l.probs.add("CORS_ORIGINS", `contains "*", which cannot be used with credentialed requests`,
				"list the exact origins, e.g. https://app.example.com,http://localhost:5173")
			continue
		}
		u, err := parseHTTPURL(o)
		if err == nil && u.Path != "" && u.Path != "/" {
			err = fmt.Errorf("%q has a path", RedactURL(o))
		}
		if err != nil {
			l.probs.add("CORS_ORIGINS", err.Error(), "list origins as scheme://host[:port] separated by commas")
			continue
		}
		c.CORSOrigins = append(c.CORSOrigins, u.Scheme+"://"+u.Host)
	}

	for _, p := range splitList(l.env.get("TRUSTED_PROXIES")) {
		if _, err := netip.ParsePrefix(p); err == nil {
			c.TrustedProxies = append(c.TrustedProxies, p)
		} else if _, err := netip.ParseAddr(p); err == nil {
			c.TrustedProxies = append(c.TrustedProxies, p)
		} else {
			l.probs.add("TRUSTED_PROXIES", fmt.Sprintf("%q is neither an IP address nor a CIDR", p),
				"list proxy addresses or networks separated by commas, e.g. 10.0.0.0/8,127.0.0.1")
		}
	}
}

// sessions fills SessionStore, MaxAge, UpdateAge, AbsoluteMaxAge,
// MaxSessionsPerUser, RefreshMargin and RefreshOnSession.
func (l *loader) sessions(c *Config) {
	c.SessionStore = "bolt:" + strings.TrimRight(c.DataDir, "/") + "/sessions.db"
	// SESSION_STORE_FILE (a mounted secret: the URL may carry a password)
	// is read by env.get like every secret variable's <NAME>_FILE.
	s, name := l.env.get("SESSION_STORE"), "SESSION_STORE"
	if s != "" {
		if err := checkStore(s); err != nil {
			l.probs.add(name, err.Error(),
				"use memory, bolt:<path>, redis://[user:pass@]host:port[/db], rediss://..., redis-sentinel://host:26379,.../<master>, redis-cluster://host:6379,... or postgres://user:pass@host:5432/db")
		} else {
			c.SessionStore = s
		}
	}
	c.MaxAge = l.durationVar("AUTH_SESSION_MAX_AGE", 30*24*time.Hour)
	c.UpdateAge = l.durationVar("AUTH_SESSION_UPDATE_AGE", 24*time.Hour)
	if c.MaxAge == 0 {
		l.probs.add("AUTH_SESSION_MAX_AGE", "is zero", "give the session lifetime, e.g. 2592000 (30 days)")
	}
	if c.UpdateAge > c.MaxAge {
		l.probs.add("AUTH_SESSION_UPDATE_AGE", fmt.Sprintf("(%s) is longer than AUTH_SESSION_MAX_AGE (%s)", c.UpdateAge, c.MaxAge),
			"make it at most the max age, e.g. 86400 (24h)")
	}
	c.AbsoluteMaxAge = l.durationVar("AUTH_SESSION_ABSOLUTE_MAX_AGE", 30*24*time.Hour)
	if c.AbsoluteMaxAge == 0 {
		l.probs.add("AUTH_SESSION_ABSOLUTE_MAX_AGE", "is zero", "give how long a session may last after sign-in, e.g. 2592000 (30 days)")
	}
	c.MaxSessionsPerUser = 50
	if s := l.env.get("AUTH_SESSION_MAX_PER_USER"); s != "" {
		if n, err := strconv.Atoi(s); err != nil || n < 1 {
			l.probs.add("AUTH_SESSION_MAX_PER_USER", fmt.Sprintf("%q is not a positive whole number", s), "give how many sessions one user may hold at once, e.g. 50")
		} else {
			c.MaxSessionsPerUser = n
		}
	}
	c.RefreshMargin = l.durationVar("AUTH_REFRESH_MARGIN", 60*time.Second)
	c.SessionCacheTTL = defaultCacheTTL(c.SessionStore)
	if l.env.get("AUTH_SESSION_CACHE_TTL") != "" {
		c.SessionCacheTTL = l.durationVar("AUTH_SESSION_CACHE_TTL", c.SessionCacheTTL)
		if c.SessionCacheTTL > time.Minute && !processLocal(c.SessionStore) {
			l.probs.add("AUTH_SESSION_CACHE_TTL", fmt.Sprintf("(%s) is longer than a minute with a shared store", c.SessionCacheTTL),
				"keep it at or below 1s with Redis or PostgreSQL (another instance's sign-out must show quickly), or 0 to turn the cache off")
		}
	}
	if b := l.boolVar("AUTH_REFRESH_ON_SESSION"); b != nil {
		c.RefreshOnSession = *b
	}
}

// defaultCacheTTL: a cache in front of a store only this process writes is
// kept exact by the session manager, so it may live long; with a shared
// store (Redis) other instances' writes are announced, and the TTL bounds
// what a lost announcement can cost.
func defaultCacheTTL(string) time.Duration {
	// Redis too: its change feed is acknowledged and leased (a sign-out on
	// any instance is never served from another's cache once it has
	// answered; an instance that cannot prove its feed current serves
	// nothing cached), so the TTL only bounds how long another instance's
	// refresh could go unseen if its announcement were lost.
	return time.Minute
}

// access fills ProtectedPaths, Upstreams, FederatedSignout, AllowedGroups,
// AllowedEmailDomains and SessionGroups.
func (l *loader) access(c *Config) {
	c.ProtectedPaths = []string{"/protected*"}
	if s := l.env.get("PROTECTED_PATHS"); s != "" {
		c.ProtectedPaths = nil
		for _, p := range splitList(s) {
			if !strings.HasPrefix(p, "/") {
				l.probs.add("PROTECTED_PATHS", fmt.Sprintf("%q does not start with /", p),
					"list absolute paths separated by commas, e.g. /protected*,/account")
				continue
			}
			c.ProtectedPaths = append(c.ProtectedPaths, p)
		}
	}

	c.Upstreams = map[string]*url.URL{}
	for _, k := range l.env.keys {
		name, ok := strings.CutPrefix(k, "UPSTREAM_")
		if !ok || l.env.get(k) == "" || l.upstreamStepUp(c, k) {
			continue
		}
		if strings.HasSuffix(name, "_GROUPS") {
			continue // UPSTREAM_<NAME>_GROUPS (session_shape.go)
		}
		if l.upstreamPolicyVar(name) {
			continue
		}
		if !validVarName(name) {
			l.probs.add(k, "has an empty or invalid upstream name", "name it UPSTREAM_<NAME> with letters, digits and _")
			continue
		}
		u, err := parseHTTPURL(l.env.get(k))
		if err != nil {
			l.probs.add(k, err.Error(), "set it to the API's absolute base URL, e.g. https://api.example.com/v1")
			continue
		}
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
		c.Upstreams[strings.ToLower(name)] = u
	}
	l.upstreamPolicies(c)

	l.cookieOptions(c)
	c.FederatedSignout = l.boolVar("AUTH_FEDERATED_SIGNOUT")
	if b := l.boolVar("AUTH_SESSION_GROUPS"); b != nil {
		c.SessionGroups = *b
	}
	c.AllowedGroups = splitList(l.env.get("AUTH_ALLOWED_GROUPS"))
	for _, d := range splitList(l.env.get("AUTH_ALLOWED_EMAIL_DOMAINS")) {
		c.AllowedEmailDomains = append(c.AllowedEmailDomains, strings.ToLower(strings.TrimPrefix(d, "@")))
	}
}

// secrets fills Secrets and GenerateSecret; whether a missing secret is a
// problem depends on DevIdP and URL, so it runs after server and providers.
func (l *loader) secrets(c *Config) {
	name, cur := "NEXTAUTH_SECRET", l.env.get("NEXTAUTH_SECRET")
	if cur == "" {
		if v := l.env.get("AUTH_SECRET"); v != "" {
			name, cur = "AUTH_SECRET", v
		}
	}
	if cur == "" {
		nodeEnv := strings.ToLower(l.env.get("NODE_ENV"))
		// A URL that is set but invalid fell back to the default; it is
		// neither unset nor loopback.
		rawURL := l.env.get(l.urlVar())
		switch {
		case c.DevIdP:
			c.GenerateSecret = true
		case nodeEnv == "production":
			l.probs.add("NEXTAUTH_SECRET", "is not set, and NODE_ENV is production (a secret is generated only in development)",
				secretFix+" (AUTH_SECRET is read too)")
		case rawURL != "" && (!c.URLSet || !isLoopback(c.URL.Hostname())):
			l.probs.add("NEXTAUTH_SECRET", fmt.Sprintf("is not set, and %s %s is not a loopback URL (a secret is generated only for http://localhost development)", l.urlVar(), RedactURL(rawURL)),
				secretFix+" (AUTH_SECRET is read too)")
		default:
			c.GenerateSecret = true
		}
		if l.env.get("NEXTAUTH_SECRET_PREVIOUS") != "" {
			l.probs.add("NEXTAUTH_SECRET_PREVIOUS", "is set but NEXTAUTH_SECRET is not",
				"set NEXTAUTH_SECRET to the current secret and keep old ones in NEXTAUTH_SECRET_PREVIOUS")
		}
		return
	}
	all := []string{cur}
	names := []string{l.env.varName(name)}
	// Old secrets are comma-separated, or one a line in a file.
	for _, s := range splitList(strings.ReplaceAll(l.env.get("NEXTAUTH_SECRET_PREVIOUS"), "\n", ",")) {
		all = append(all, s)
		names = append(names, l.env.varName("NEXTAUTH_SECRET_PREVIOUS"))
	}
	for i, s := range all {
		if len(s) < 32 {
			l.probs.add(names[i], fmt.Sprintf("is %d bytes long, shorter than 32", len(s)), secretFix)
			continue
		}
		c.Secrets = append(c.Secrets, []byte(s))
	}
}
