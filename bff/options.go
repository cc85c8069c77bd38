package bff

import (
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/authbff/authbff/internal/config"
)

// Options configure New. It is a plain struct: fill it by hand, or get it
// from OptionsFromEnv (the variables the authbff binary reads) and adjust.
// The zero value is valid: the development IdP on http://localhost:3000,
// sessions in ./data/sessions.db, no upstreams, no SPA. Zero fields take the
// defaults the README's configuration table lists; New checks everything
// and reports every problem at once.
type Options struct {
	// URL is the public URL (NEXTAUTH_URL): its origin is where the browser
	// reaches authbff, its path (if any) the base path of the NextAuth routes
	// (default /api/auth). Empty: http://localhost:<Port>.
	URL string
	// Port is the port the host listens on (PORT, default 3000); it only
	// makes the default URL.
	Port int
	// Secrets seal sessions, flow cookies and CSRF tokens: the current
	// secret (NEXTAUTH_SECRET, >= 32 bytes) first, then previous ones still
	// accepted. Empty in development: a secret is made and kept in DataDir.
	Secrets []string
	// Flavor is the next-auth client generation served: "v4" (default) or "v5".
	Flavor string
	// DataDir is where authbff keeps files (default ./data).
	DataDir string
	// Store is an open session store (see OpenStore); the caller keeps
	// ownership and closes it after the BFF. Nil opens StoreSpec.
	Store Store
	// StoreSpec is SESSION_STORE: memory, bolt:<path>, redis://...,
	// redis-sentinel://..., redis-cluster://... (default bolt:<DataDir>/sessions.db).
	StoreSpec string
	// SessionMaxAge is the sliding idle limit of a session (default 30 days).
	SessionMaxAge time.Duration
	// SessionUpdateAge is how often a used session's expiry slides (default 24h).
	SessionUpdateAge time.Duration
	// SessionAbsoluteMaxAge ends a session this long after sign-in however
	// active it is (default 30 days).
	SessionAbsoluteMaxAge time.Duration
	// SessionMaxPerUser bounds a user's live sessions; signing in beyond it
	// ends the least recently active (default 50).
	SessionMaxPerUser int
	// SessionCacheTTL bounds how long a loaded session is served from
	// memory (default 1 min for memory/bolt, 500 ms for Redis); negative
	// turns the cache off.
	SessionCacheTTL time.Duration
	// RefreshMargin is how long before expiry an access token is refreshed
	// (default 60 s).
	RefreshMargin time.Duration
	// RefreshOnSession makes GET /session refresh due tokens too.
	RefreshOnSession bool
	// FederatedSignout ends the IdP session at sign-out; nil: on for Cognito.
	FederatedSignout *bool
	// Providers are the identity providers; empty runs the embedded
	// development IdP (refused behind a public https URL, and with NodeEnv
	// "production" unless DevIdP is set).
	Providers []Provider
	// DevIdP (AUTHBFF_DEV_IDP=1) allows the embedded development IdP, where
	// anyone who reaches it signs in as any demo user without a password,
	// when NodeEnv is "production": without it, New refuses to start in
	// production with no provider (a mistyped variable or an unmounted
	// secret must not open the door). It has no effect when Providers is
	// set, and outside production the development IdP runs without it.
	DevIdP bool
	// DevIdPAllowCIDRs (DEVIDP_ALLOW_CIDRS) are the networks, besides
	// loopback, whose peers may use the development IdP under /_devidp/,
	// e.g. "172.17.0.0/16" for a browser reaching a container through a
	// Docker bridge. The decision is made on the connection's peer address
	// (http.Request.RemoteAddr, never Host or forwarding headers): a host
	// behind a reverse proxy must list the proxy's address.
	DevIdPAllowCIDRs []string
	// Upstreams maps a name to the base URL /api/proxy/<name>/ forwards to
	// with the user's access token (UPSTREAM_<NAME>).
	Upstreams map[string]string
	// ProtectedPaths are SPA paths that need a session (default
	// /protected*; a trailing * matches by prefix).
	ProtectedPaths []string
	// ServeSPA serves the bundled SPA (or SPADir) for every path no other
	// route takes. OptionsFromEnv turns it on, as the binary does.
	ServeSPA bool
	// SPADir is a directory of SPA files to serve instead of the bundled one.
	SPADir string
	// CORSOrigins are other origins allowed to call with credentials: the
	// origin check of NextAuth's POSTs and of the proxy accepts them besides
	// URL's origin. The BFF answers no CORS itself: apply the host's CORS
	// middleware with the same list (see the package doc).
	CORSOrigins []string
	// TrustedProxies are CIDRs/IPs whose X-Forwarded-For and X-Request-Id are
	// believed.
	TrustedProxies []string
	// AllowedGroups and AllowedEmailDomains restrict who may sign in.
	AllowedGroups, AllowedEmailDomains []string
	// SessionGroups adds the user's groups to the session JSON.
	SessionGroups bool
	// LogLevel (debug, info, warn, error) and LogFormat (text, json) make
	// the logger when Logger is nil.
	LogLevel, LogFormat string
	// MetricsAddr is where the authbff binary serves /metrics, /healthz and
	// /readyz (METRICS_ADDR, default 127.0.0.1:9464; "" off). The library
	// itself never listens: serve AdminHandler() where you like.
	MetricsAddr string
	// NodeEnv is NODE_ENV ("production" refuses development conveniences).
	NodeEnv string
	// Logger receives authbff's logs; nil makes one from LogLevel/LogFormat
	// writing to stderr.
	Logger *slog.Logger
	// HTTPClient is used for calls to identity providers; nil uses a
	// locked-down default.
	HTTPClient *http.Client

	// Listen is the authbff binary's HTTP server (HOST, HTTP_READ_TIMEOUT,
	// HTTP_IDLE_TIMEOUT, HTTP_MAX_CONNECTIONS, SHUTDOWN_DRAIN_DELAY,
	// SHUTDOWN_TIMEOUT). The library never listens and ignores it (see
	// HardenServer for serving it yourself).
	Listen ListenOptions

	// Extra holds settings without a field of their own, as environment
	// variables (e.g. "AUTH_OKTA_ID_TOKEN_ALGS"); fields win.
	Extra map[string]string
}

// ListenOptions are the settings of the binary's HTTP server.
type ListenOptions struct {
	// Host is the listen host; with HostSet false it is 127.0.0.1 while the
	// development IdP runs and every interface otherwise.
	Host    string
	HostSet bool
	// ReadTimeout bounds reading one request, body included (default 30 s).
	ReadTimeout time.Duration
	// MaxConnections bounds the connections served at once (default 4096);
	// idle keep-alive connections are closed first near it (HardenServer).
	MaxConnections int
	// IdleTimeout closes a keep-alive connection idle this long (default 30 s).
	IdleTimeout time.Duration
	// DrainDelay: after SIGTERM, /readyz answers 503 this long while new
	// requests are still served (default 2 s).
	DrainDelay time.Duration
	// ShutdownTimeout: how long in-flight requests may then finish
	// (default 35 s, more than the proxy's 30 s upstream timeout).
	ShutdownTimeout time.Duration
}

// Provider is one OpenID Connect identity provider.
type Provider struct {
	// ID is the provider id in URLs (/signin/<id>, /callback/<id>): "cognito"
	// for Cognito, else lower-case letters and digits.
	ID string
	// Name is the display name (default: the ID capitalised).
	Name string
	// Issuer is the OIDC issuer URL exactly as the provider's discovery states.
	Issuer string
	// ClientID and ClientSecret are the OAuth client's credentials; no
	// secret makes a public client (PKCE only).
	ClientID, ClientSecret string
	// Cognito marks the AWS Cognito provider (hosted-UI logout, token_use
	// checks, Cognito error advice). ID must then be "cognito".
	Cognito bool
	// CognitoDomain is the hosted-UI domain (COGNITO_DOMAIN).
	CognitoDomain string
	// Scopes default to openid profile email.
	Scopes []string
	// AuthStyle is client_secret_post (default with a secret),
	// client_secret_basic or none.
	AuthStyle string
	// UserInfo also reads the userinfo endpoint at sign-in and refresh.
	UserInfo bool
	// IDTokenAlgs are the ID token signature algorithms to accept (default:
	// the asymmetric ones discovery lists; Cognito RS256). none and HS* are
	// never accepted.
	IDTokenAlgs []string
	// LogoutIDTokenHint sends the ID token as id_token_hint in the
	// browser-visible federated logout URL, for providers that require it.
	LogoutIDTokenHint bool
}

// OptionsFromEnv reads the variables, .env.local/.env files (in the working
// directory, Next.js's order) and defaults the authbff binary reads; every
// problem is listed at once in the error.
func OptionsFromEnv() (Options, error) {
	return OptionsFromLookup(os.LookupEnv, os.Environ(), "")
}

// OptionsFromLookup is OptionsFromEnv with the environment given: lookup
// finds a variable, environ lists them all ("K=V"), dir holds the dotenv
// files ("" is the working directory).
func OptionsFromLookup(lookup func(string) (string, bool), environ []string, dir string) (Options, error) {
	cfg, err := config.Load(config.Source{Getenv: lookup, Environ: environ, Dir: dir})
	if err != nil {
		return Options{}, err
	}
	o := fromConfig(cfg)
	o.NodeEnv, _ = lookup("NODE_ENV")
	o.ServeSPA = true
	return o, nil
}

func fromConfig(c *config.Config) Options {
	o := Options{
		Port: c.Port, Flavor: c.Flavor, DataDir: c.DataDir, StoreSpec: c.SessionStore,
		SessionMaxAge: c.MaxAge, SessionUpdateAge: c.UpdateAge, SessionCacheTTL: c.SessionCacheTTL,
		SessionAbsoluteMaxAge: c.AbsoluteMaxAge, SessionMaxPerUser: c.MaxSessionsPerUser,
		RefreshMargin: c.RefreshMargin, RefreshOnSession: c.RefreshOnSession, FederatedSignout: c.FederatedSignout,
		ProtectedPaths: c.ProtectedPaths, SPADir: c.SPADir, CORSOrigins: c.CORSOrigins,
		TrustedProxies: c.TrustedProxies, AllowedGroups: c.AllowedGroups, AllowedEmailDomains: c.AllowedEmailDomains,
		SessionGroups: c.SessionGroups, LogLevel: c.LogLevel, LogFormat: c.LogFormat, MetricsAddr: c.MetricsAddr,
		Upstreams: map[string]string{}, DevIdP: c.DevIdPOptIn, DevIdPAllowCIDRs: c.DevIdPAllowCIDRs,
		Listen: ListenOptions{Host: c.Server.Host, HostSet: c.Server.HostSet, ReadTimeout: c.Server.ReadTimeout,
			IdleTimeout: c.Server.IdleTimeout, MaxConnections: c.Server.MaxConnections, DrainDelay: c.Server.DrainDelay, ShutdownTimeout: c.Server.ShutdownTimeout},
	}
	if c.SessionCacheTTL == 0 {
		o.SessionCacheTTL = -1
	}
	if c.URLSet {
		o.URL = c.URL.String()
		if c.BasePath != "/api/auth" {
			o.URL = c.Origin() + c.BasePath
		}
	}
	for _, s := range c.Secrets {
		o.Secrets = append(o.Secrets, string(s))
	}
	for name, u := range c.Upstreams {
		o.Upstreams[name] = u.String()
	}
	for _, p := range c.Providers {
		o.Providers = append(o.Providers, Provider{
			ID: p.ID, Name: p.Name, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
			Cognito: p.Cognito, CognitoDomain: p.CognitoDomain, Scopes: p.Scopes, AuthStyle: string(p.AuthStyle),
			UserInfo: p.UserInfo, IDTokenAlgs: p.IDTokenAlgs, LogoutIDTokenHint: p.LogoutIDTokenHint,
		})
	}
	return o
}

// environ renders o as the environment variables config.Load reads, so that
// hand-filled Options get exactly the binary's defaults and checks.
func (o Options) environ() map[string]string {
	env := map[string]string{}
	for k, v := range o.Extra {
		env[k] = v
	}
	set := func(k, v string) {
		if v != "" {
			env[k] = v
		}
	}
	dur := func(k string, d time.Duration) {
		if d > 0 {
			env[k] = d.String()
		}
	}
	flag := func(k string, b bool) {
		if b {
			env[k] = "1"
		}
	}
	list := func(k string, l []string) { set(k, strings.Join(l, ",")) }
	set("NEXTAUTH_URL", o.URL)
	if o.Port != 0 {
		env["PORT"] = strconv.Itoa(o.Port)
	}
	if len(o.Secrets) > 0 {
		env["NEXTAUTH_SECRET"] = o.Secrets[0]
		list("NEXTAUTH_SECRET_PREVIOUS", o.Secrets[1:])
	}
	set("AUTH_CLIENT_FLAVOR", o.Flavor)
	set("AUTHBFF_DATA_DIR", o.DataDir)
	set("SESSION_STORE", o.StoreSpec)
	dur("AUTH_SESSION_MAX_AGE", o.SessionMaxAge)
	dur("AUTH_SESSION_UPDATE_AGE", o.SessionUpdateAge)
	dur("AUTH_SESSION_ABSOLUTE_MAX_AGE", o.SessionAbsoluteMaxAge)
	if o.SessionMaxPerUser != 0 {
		env["AUTH_SESSION_MAX_PER_USER"] = strconv.Itoa(o.SessionMaxPerUser)
	}
	dur("AUTH_SESSION_CACHE_TTL", o.SessionCacheTTL)
	if o.SessionCacheTTL < 0 {
		env["AUTH_SESSION_CACHE_TTL"] = "0"
	}
	dur("AUTH_REFRESH_MARGIN", o.RefreshMargin)
	flag("AUTH_REFRESH_ON_SESSION", o.RefreshOnSession)
	if o.FederatedSignout != nil {
		env["AUTH_FEDERATED_SIGNOUT"] = map[bool]string{true: "1", false: "0"}[*o.FederatedSignout]
	}
	list("PROTECTED_PATHS", o.ProtectedPaths)
	set("SPA_DIR", o.SPADir)
	list("CORS_ORIGINS", o.CORSOrigins)
	list("TRUSTED_PROXIES", o.TrustedProxies)
	list("AUTH_ALLOWED_GROUPS", o.AllowedGroups)
	list("AUTH_ALLOWED_EMAIL_DOMAINS", o.AllowedEmailDomains)
	flag("AUTH_SESSION_GROUPS", o.SessionGroups)
	if o.Listen.HostSet {
		env["HOST"] = o.Listen.Host
	}
	dur("HTTP_READ_TIMEOUT", o.Listen.ReadTimeout)
	dur("HTTP_IDLE_TIMEOUT", o.Listen.IdleTimeout)
	dur("SHUTDOWN_DRAIN_DELAY", o.Listen.DrainDelay)
	dur("SHUTDOWN_TIMEOUT", o.Listen.ShutdownTimeout)
	if o.Listen.MaxConnections > 0 {
		env["HTTP_MAX_CONNECTIONS"] = strconv.Itoa(o.Listen.MaxConnections)
	}
	set("LOG_LEVEL", o.LogLevel)
	set("LOG_FORMAT", o.LogFormat)
	set("NODE_ENV", o.NodeEnv)
	flag("AUTHBFF_DEV_IDP", o.DevIdP)
	list("DEVIDP_ALLOW_CIDRS", o.DevIdPAllowCIDRs)
	names := make([]string, 0, len(o.Upstreams))
	for n := range o.Upstreams {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		env["UPSTREAM_"+strings.ToUpper(n)] = o.Upstreams[n]
	}
	for _, p := range o.Providers {
		pre := "AUTH_" + strings.ToUpper(p.ID) + "_"
		idVar, secretVar, issuerVar := pre+"ID", pre+"SECRET", pre+"ISSUER"
		if p.Cognito {
			pre, idVar, secretVar, issuerVar = "COGNITO_", "COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET", "COGNITO_ISSUER"
			set("COGNITO_DOMAIN", p.CognitoDomain)
			if p.Name != "" && p.Name != "Cognito" {
				env["AUTH_COGNITO_NAME"] = p.Name
			}
		} else {
			set(pre+"NAME", p.Name)
		}
		set(idVar, p.ClientID)
		set(secretVar, p.ClientSecret)
		set(issuerVar, p.Issuer)
		if len(p.Scopes) > 0 {
			env[pre+"SCOPE"] = strings.Join(p.Scopes, " ")
		}
		set(pre+"AUTH_STYLE", p.AuthStyle)
		flag(pre+"USERINFO", p.UserInfo)
		list("AUTH_"+strings.ToUpper(p.ID)+"_ID_TOKEN_ALGS", p.IDTokenAlgs)
		flag("AUTH_"+strings.ToUpper(p.ID)+"_LOGOUT_ID_TOKEN_HINT", p.LogoutIDTokenHint)
	}
	return env
}

// config validates o into the configuration the core runs with.
func (o Options) config() (*config.Config, error) {
	env := o.environ()
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	return config.Load(config.Source{
		Getenv:  func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Environ: list,
		NoFiles: true,
	})
}
