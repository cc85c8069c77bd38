// Package config reads authbff's settings from the environment and from
// Next.js-style dotenv files into one validated Config, reporting every
// problem at once, each naming the variable and the fix.
package config

import (
	"net/url"
	"os"
	"strings"
	"time"
)

// Source is where Load reads variables from.
type Source struct {
	// Getenv looks a variable up in the real environment. When nil, the
	// real environment is the Environ list.
	Getenv func(string) (string, bool)
	// Environ lists the real environment as "K=V" entries; Load scans it
	// (and the dotenv files) for AUTH_<ID>_ISSUER and UPSTREAM_<NAME>.
	Environ []string
	// Dir is the directory holding the dotenv files; "" is the working
	// directory.
	Dir string
	// NoFiles skips the dotenv files: only Getenv/Environ are read.
	NoFiles bool
}

// FromOS returns the Source of the process: its environment and dotenv
// files in the working directory.
func FromOS() Source {
	return Source{Getenv: os.LookupEnv, Environ: os.Environ(), Dir: ""}
}

// FromMap returns a Source holding exactly env (as if it were the whole
// environment), with dir for the dotenv files: for programs and tests that
// configure authbff without touching the process environment.
func FromMap(env map[string]string, dir string) Source {
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	return Source{
		Getenv:  func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Environ: list,
		Dir:     dir,
	}
}

// AuthStyle is how a client authenticates at the token endpoint.
type AuthStyle string

// The token endpoint auth styles authbff supports.
const (
	// AuthStylePost sends client_id and client_secret in the form body.
	AuthStylePost AuthStyle = "client_secret_post"
	// AuthStyleBasic sends them in an HTTP Basic Authorization header.
	AuthStyleBasic AuthStyle = "client_secret_basic"
	// AuthStyleNone sends only client_id (a public client).
	AuthStyleNone AuthStyle = "none"
	// AuthStylePrivateKeyJWT signs a client assertion with AUTH_<ID>_CLIENT_KEY.
	AuthStylePrivateKeyJWT AuthStyle = "private_key_jwt"
	// AuthStyleSecretJWT HMACs a client assertion with the client secret.
	AuthStyleSecretJWT AuthStyle = "client_secret_jwt"
)

// Provider is one configured OpenID Connect identity provider.
type Provider struct {
	// ID is the provider id in URLs: "cognito", or the lower-cased <ID> of
	// AUTH_<ID>_ISSUER. Unique within Config.Providers.
	ID string
	// Name is the display name: AUTH_<ID>_NAME, else "Cognito" or the ID
	// capitalised ("okta" -> "Okta").
	Name string
	// Issuer is the issuer exactly as configured (or derived from the
	// Cognito region and pool id). It is "" when LearnIssuer is set, or when
	// Load also reported a problem.
	Issuer string
	// LearnIssuer is true for Cognito configured with COGNITO_DOMAIN but no
	// issuer (the 2021 tutorial's COGNITO_CLIENT_ID, COGNITO_CLIENT_SECRET,
	// COGNITO_DOMAIN): Issuer is "" and CognitoDomain is set, and the caller
	// must learn the user pool's issuer from the first ID token the domain's
	// token endpoint returns, then pin it (oidc.Config.LearnIssuer).
	LearnIssuer bool
	// ClientID is the OAuth client id.
	ClientID string
	// ClientSecret is the client secret; "" for a public client.
	ClientSecret string
	// Cognito is true for the Cognito provider (Cognito-specific logout,
	// token_use checks and error diagnosis apply).
	Cognito bool
	// CognitoDomain is the hosted-UI origin "https://<COGNITO_DOMAIN>"
	// (scheme added when missing, no trailing slash), or "" if unset.
	CognitoDomain string
	// Scopes defaults to openid profile email and always holds openid.
	Scopes []string
	// AuthStyle defaults to client_secret_post with a secret and none
	// without; it is consistent with ClientSecret.
	AuthStyle AuthStyle
	// UserInfo asks the caller to also call the userinfo endpoint.
	UserInfo bool
	// IDTokenAlgs are the ID token signature algorithms to accept
	// (AUTH_<ID>_ID_TOKEN_ALGS, canonical spelling such as "ES256",
	// "EdDSA"); nil means the ones the provider's discovery lists (Cognito:
	// RS256). Never "none" or HS*.
	IDTokenAlgs []string
	// LogoutIDTokenHint (AUTH_<ID>_LOGOUT_ID_TOKEN_HINT=1) puts the ID token
	// in the federated sign-out URL as id_token_hint, for providers that
	// need it; otherwise only client_id identifies the client there.
	LogoutIDTokenHint bool
	// Type is "oidc" (default) or "oauth" (AUTH_<ID>_TYPE=oauth: plain
	// OAuth 2.0, with AuthorizationURL, TokenURL, UserinfoURL, ProfileMap
	// from AUTH_<ID>_AUTHORIZATION_URL, _TOKEN_URL, _USERINFO_URL,
	// _PROFILE_MAP; no Issuer).
	Type                                    string
	AuthorizationURL, TokenURL, UserinfoURL string
	// ProfileMap maps user fields to profile keys ("name" -> "name|login").
	ProfileMap map[string]string
	// GitHub is the GitHub preset (AUTH_GITHUB_ID or GITHUB_ID);
	// GitHubEnterpriseURL is AUTH_GITHUB_ENTERPRISE_URL.
	GitHub              bool
	GitHubEnterpriseURL string
	// Google is the Google preset (AUTH_GOOGLE_ID or GOOGLE_CLIENT_ID);
	// HostedDomain is AUTH_GOOGLE_HOSTED_DOMAIN.
	Google       bool
	HostedDomain string
	// Tenants is AUTH_MICROSOFT_ENTRA_ID_TENANTS (Entra's allowed tenant
	// ids, "*" for all).
	Tenants []string
	// Apple is Sign in with Apple (AUTH_APPLE_ID = the Services ID,
	// AUTH_APPLE_TEAM_ID, AUTH_APPLE_KEY_ID, AUTH_APPLE_PRIVATE_KEY or
	// AUTH_APPLE_PRIVATE_KEY_FILE: the .p8 key's PEM text).
	Apple                                    bool
	AppleTeamID, AppleKeyID, ApplePrivateKey string
	// AuthorizationParams is AUTH_<ID>_AUTHORIZATION_PARAMS (a query
	// string of default authorization parameters).
	AuthorizationParams url.Values
	// GroupsClaim is the claim holding the user's groups
	// (AUTH_<ID>_GROUPS_CLAIM, COGNITO_GROUPS_CLAIM; "" : cognito:groups,
	// else groups).
	GroupsClaim string
	// ClientKey is the private_key_jwt key's PEM text (AUTH_<ID>_CLIENT_KEY
	// or AUTH_<ID>_CLIENT_KEY_FILE; further PEM blocks are previous keys),
	// ClientKeyID AUTH_<ID>_CLIENT_KEY_ID.
	ClientKey, ClientKeyID string
	// PAR is AUTH_<ID>_PAR: "" (auto), "always" or "never".
	PAR string
	// DPoP is AUTH_<ID>_DPOP=1: DPoP-bound tokens.
	DPoP bool
	// ClientAssertionAudience is AUTH_<ID>_CLIENT_ASSERTION_AUD: "" (the
	// issuer) or "token_endpoint".
	ClientAssertionAudience string
}

// Config is authbff's validated configuration. Every field is set (to its
// default when the variable is unset) by Load.
type Config struct {
	// URL is the public URL (NEXTAUTH_URL, else AUTH_URL, else
	// http://localhost:<Port>): scheme and host lower-cased, default port
	// dropped, no trailing slash, no query or fragment.
	URL *url.URL
	// URLSet is true when URL came from NEXTAUTH_URL/AUTH_URL (environment
	// or dotenv file), false when it is the default.
	URLSet bool
	// BasePath is where the NextAuth routes live: URL's path when it has
	// one, else "/api/auth". Never ends in a slash.
	BasePath string
	// Secrets holds the current secret (NEXTAUTH_SECRET, else AUTH_SECRET)
	// first, then the previous ones (NEXTAUTH_SECRET_PREVIOUS), each at
	// least 32 bytes. Empty exactly when GenerateSecret is set.
	Secrets [][]byte
	// GenerateSecret is true when no secret is set and development rules
	// allow that (like NextAuth v4 in development): the embedded dev IdP is
	// used, or NEXTAUTH_URL is unset or loopback and NODE_ENV is not
	// production. The caller must then use a secret it generates once and
	// keeps under DataDir, and warn that it did. Without a secret in any
	// other case Load reports a problem instead.
	GenerateSecret bool
	// Flavor is the NextAuth client generation served: "v4" or "v5".
	Flavor string
	// Port is the listening port (PORT, default 3000); 0 means pick a free
	// port, in which case the caller must fix URL up after listening.
	Port int
	// SessionStore is "memory", "bolt:<path>", a redis:// / rediss:// URL
	// or a postgres:// URL (SESSION_STORE, or the file SESSION_STORE_FILE)
	// (default "bolt:" + DataDir + "/sessions.db").
	SessionStore string
	// DataDir is where authbff keeps files (AUTHBFF_DATA_DIR, default ./data).
	DataDir string
	// MaxAge is the session lifetime (AUTH_SESSION_MAX_AGE, default 30 days).
	MaxAge time.Duration
	// UpdateAge is how often the session expiry is extended
	// (AUTH_SESSION_UPDATE_AGE, default 24h); never more than MaxAge.
	UpdateAge time.Duration
	// AbsoluteMaxAge is how long after sign-in a session ends however active
	// (AUTH_SESSION_ABSOLUTE_MAX_AGE, default 30 days); MaxAge stays the
	// sliding idle limit.
	AbsoluteMaxAge time.Duration
	// MaxSessionsPerUser caps one user's live sessions; signing in beyond it
	// ends the least recently active (AUTH_SESSION_MAX_PER_USER, default 50).
	MaxSessionsPerUser int
	// Providers lists the configured providers: Cognito first, then the
	// generic ones sorted by ID.
	Providers []Provider
	// DevIdP is true when no provider variable is set at all: the embedded
	// development IdP is to be used. Load refuses it behind a public https
	// URL, and with NODE_ENV=production unless DevIdPOptIn.
	DevIdP bool
	// DevIdPOptIn is AUTHBFF_DEV_IDP=1: the development IdP was asked for,
	// so NODE_ENV=production does not refuse it. It never turns the
	// development IdP on when a provider is configured.
	DevIdPOptIn bool
	// DevIdPAllowCIDRs lists the networks (DEVIDP_ALLOW_CIDRS, masked
	// CIDRs; an IP is a /32 or /128) whose peers may use the development
	// IdP besides loopback, e.g. a container bridge.
	DevIdPAllowCIDRs []string
	// CORSOrigins lists the allowed cross-origin origins (CORS_ORIGINS),
	// each normalised "scheme://host[:port]"; never "*".
	CORSOrigins []string
	// ProtectedPaths lists the SPA paths that need a session
	// (PROTECTED_PATHS, default ["/protected*"]); each starts with "/".
	ProtectedPaths []string
	// SPADir is a directory of SPA files to serve (SPA_DIR); "" means the
	// embedded SPA. Load checked it is a directory.
	SPADir string
	// Upstreams maps the lower-cased <NAME> of UPSTREAM_<NAME> to its base
	// URL (absolute http(s), no query, fragment or userinfo, no trailing
	// slash). Never nil.
	Upstreams map[string]*url.URL
	// UpstreamStepUp is UPSTREAM_<NAME>_ACR / _MAX_AGE by lower-cased name
	// (stepup.go); nil when none is set.
	UpstreamStepUp map[string]StepUp
	// CookieSameSite is AUTH_COOKIE_SAMESITE ("" or "strict"), CookiePrefix
	// AUTH_COOKIE_PREFIX ("" or "__Host-Http-") (stepup.go).
	CookieSameSite, CookiePrefix string
	// SessionCacheTTL is how long a loaded session is served from memory
	// (AUTH_SESSION_CACHE_TTL; default 1 min for memory/bolt, 500 ms for
	// Redis; 0 turns the cache off).
	SessionCacheTTL time.Duration
	// RefreshMargin is how long before expiry an access token is refreshed
	// (AUTH_REFRESH_MARGIN, default 60s).
	RefreshMargin time.Duration
	// RefreshOnSession asks GET /session to refresh due tokens
	// (AUTH_REFRESH_ON_SESSION=1).
	RefreshOnSession bool
	// FederatedSignout is AUTH_FEDERATED_SIGNOUT; nil when unset, the
	// caller picks the default (on for Cognito).
	FederatedSignout *bool
	// AllowedGroups restricts sign-in to members of these groups
	// (AUTH_ALLOWED_GROUPS); empty allows everyone.
	AllowedGroups []string
	// AllowedEmailDomains restricts sign-in to these lower-cased email
	// domains (AUTH_ALLOWED_EMAIL_DOMAINS); empty allows everyone.
	AllowedEmailDomains []string
	// SessionGroups adds the user's groups to the session JSON
	// (AUTH_SESSION_GROUPS=1).
	SessionGroups bool
	// LogLevel is debug, info (default), warn or error.
	LogLevel string
	// LogFormat is text (default) or json (LOG_FORMAT).
	LogFormat string
	// Server is the binary's HTTP server settings.
	Server Server
	// MetricsAddr is where the binary serves /metrics (METRICS_ADDR,
	// default 127.0.0.1:9464); "" when METRICS_ADDR is set empty (off).
	MetricsAddr string
	// MetricsAddrSet is true when METRICS_ADDR was given: the binary then
	// fails when it cannot listen there, while the default address, when
	// taken (a second instance on one machine), only turns metrics off.
	MetricsAddrSet bool
	// TrustedProxies lists the CIDRs or IPs (TRUSTED_PROXIES) whose
	// forwarding headers are believed; empty trusts none.
	TrustedProxies []string
	// Warnings are what is suspicious but not wrong: a NEXTAUTH_*, AUTH_*,
	// COGNITO_*, UPSTREAM_* or AUTHBFF_* variable that is set but never
	// read (a misspelling, with the likely intended name). The binary logs
	// each at start-up.
	Warnings []Problem
	// SessionClaims maps session.user fields to claims
	// (AUTH_SESSION_CLAIMS="roles=cognito:groups tenant=custom:tenant_id").
	SessionClaims map[string]string
	// SessionUserID adds user.id (AUTH_SESSION_USER_ID=1).
	SessionUserID bool
	// SessionUpdatable are the keys update() may store
	// (AUTH_SESSION_UPDATABLE=theme,locale).
	SessionUpdatable []string
	// UpstreamGroups maps a lower-cased upstream name to the groups its
	// callers need (UPSTREAM_<NAME>_GROUPS=admins,ops).
	UpstreamGroups map[string][]string
	// UpstreamPolicies are the token and WebSocket settings of upstreams
	// (UPSTREAM_<NAME>_TOKEN, _RESOURCE, _SCOPE, _AUDIENCE, _PROVIDER,
	// _WEBSOCKET), by the lower-cased <NAME> of an upstream in Upstreams;
	// an upstream without any has no entry.
	UpstreamPolicies map[string]UpstreamPolicy
}

// Origin returns scheme://host[:port] of URL.
func (c *Config) Origin() string {
	return c.URL.Scheme + "://" + c.URL.Host
}

// Secure reports whether URL is https (cookies then get Secure and the
// __Secure-/__Host- names).
func (c *Config) Secure() bool {
	return c.URL.Scheme == "https"
}

// CallbackURL returns the absolute redirect URI for a provider:
// Origin()+BasePath+"/callback/"+providerID, the string to register at the IdP.
func (c *Config) CallbackURL(providerID string) string {
	return c.Origin() + c.BasePath + "/callback/" + providerID
}

// loader carries the lookup and the problems found so far through Load.
type loader struct {
	env   *env
	probs Problems
}

// Load reads src into a Config. When anything is wrong it returns a
// *Problems listing every problem at once, together with the Config filled
// as far as possible (for diagnostics such as doctor; do not serve with it).
// The real environment wins over dotenv files; values are trimmed and an
// empty value counts as unset.
func Load(src Source) (*Config, error) {
	l := &loader{}
	l.env = newEnv(src, &l.probs)
	c := &Config{}
	l.server(c)
	l.sessions(c)
	l.access(c)
	l.providers(c)
	l.sessionShape(c)
	l.devIdP(c)
	l.listen(c)
	l.secrets(c)
	if c.DevIdP && c.Secure() && !isLoopback(c.URL.Hostname()) {
		l.probs.add(l.urlVar(), "is a public https URL, but no identity provider is configured: "+
			"the embedded development IdP is not for production",
			"configure a provider (COGNITO_CLIENT_ID + COGNITO_DOMAIN or COGNITO_ISSUER, or AUTH_<ID>_ISSUER + AUTH_<ID>_ID), "+
				"or use an http://localhost URL for development")
	}
	c.Warnings = l.unknownVars()
	if len(l.probs) > 0 {
		return c, &l.probs
	}
	return c, nil
}

// providers fills Providers and DevIdP.
func (l *loader) providers(c *Config) {
	present := false
	if p, ok := l.cognito(); ok {
		c.Providers = append(c.Providers, p)
		present = true
	}
	for _, preset := range []func() (Provider, bool){l.github, l.google, l.apple, l.entra} {
		if p, ok := preset(); ok {
			c.Providers = append(c.Providers, p)
			present = true
		}
	}
	for _, id := range l.genericIDs() {
		c.Providers = append(c.Providers, l.generic(id))
		present = true
	}
	seen := map[string]bool{}
	for _, p := range c.Providers {
		if seen[p.ID] {
			l.probs.add("AUTH_"+strings.ToUpper(p.ID)+"_ISSUER", "configures provider id "+p.ID+" a second time",
				"give each provider its own id")
		}
		seen[p.ID] = true
	}
	c.DevIdP = !present
}
