package bff

import (
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Options configure New: the one, typed source of the library's settings.
// Fill it by hand, or get it from OptionsFromEnv (the variables the authbff
// binary reads) and adjust. New checks it and reports every problem at
// once, each naming the field.
//
// The zero value is safe: nothing is written to disk (DataDir is empty:
// sessions in memory, a random secret per process) and no development IdP
// runs (DevIdP is false) - so the zero Options alone is refused for want of
// a provider. Zero durations and counts take the defaults documented on
// each field; a negative duration means "off" where a field says so and is
// an error everywhere else.
type Options struct {
	// URL is the public URL users browse to: its origin is where the
	// browser reaches authbff, its path (if any) the base path of the
	// NextAuth routes (default /api/auth). Empty: http://localhost:3000.
	URL string
	// Secrets seal sessions, flow cookies and CSRF tokens: the current
	// secret first, then previous ones still accepted, each at least 32
	// bytes, used exactly as given. Empty is allowed only for a loopback
	// URL or with DevIdP: a secret is then made and kept in DataDir
	// (without DataDir, a random one per process, logged as a warning:
	// sessions do not survive a restart).
	Secrets []string
	// Flavor is the next-auth client generation served: FlavorV4 (the
	// default) or FlavorV5.
	Flavor Flavor
	// DataDir is where authbff may keep files: the bolt session store (when
	// StoreSpec is empty), the development secret, the development IdP's
	// keys, a learned Cognito issuer. Empty writes nothing to disk.
	DataDir string
	// Store is an open session store (see OpenStore, or your own); the
	// caller keeps ownership and closes it after the BFF. Nil opens
	// StoreSpec.
	Store Store
	// StoreSpec names the store New opens when Store is nil (with Store it
	// is ignored): memory,
	// bolt:<path>, redis://..., rediss://..., redis-sentinel://...,
	// redis-cluster://..., postgres://... or postgresql://....
	// Empty: bolt:<DataDir>/sessions.db with DataDir,
	// else memory.
	StoreSpec string
	// SessionMaxAge is the sliding idle limit of a session (default 30 days).
	SessionMaxAge time.Duration
	// SessionUpdateAge is how often a used session's expiry slides (default
	// 24h, at most SessionMaxAge).
	SessionUpdateAge time.Duration
	// SessionAbsoluteMaxAge ends a session this long after sign-in however
	// active it is (default 30 days).
	SessionAbsoluteMaxAge time.Duration
	// SessionMaxPerUser bounds a user's live sessions; signing in beyond it
	// ends the least recently active (default 50).
	SessionMaxPerUser int
	// SessionCacheTTL bounds how long a loaded session is served from
	// memory (default 1 min; at most 1 min with a shared store); negative
	// turns the cache off.
	SessionCacheTTL time.Duration
	// RefreshMargin is how long before expiry an access token is refreshed
	// (default 60 s).
	RefreshMargin time.Duration
	// RefreshOnSession makes GET /session refresh due tokens too.
	RefreshOnSession bool
	// FederatedSignout ends the IdP session at sign-out; nil: on for Cognito.
	FederatedSignout *bool
	// Providers are the identity providers, in the order they are offered.
	Providers []Provider
	// DevIdP runs the embedded development IdP (Cognito-shaped, under
	// /_devidp/) as the only provider: anyone who reaches it signs in as any
	// demo user without a password. It is for development only: it has no
	// effect when Providers is set (OptionsFromEnv sets DevIdP when the
	// environment names no provider; providers filled in afterwards win), it
	// is refused behind a public https URL, and it answers only loopback
	// peers and DevIdPAllowCIDRs.
	DevIdP bool
	// DevIdPAllowCIDRs are the networks, besides loopback, whose peers may
	// use the development IdP, e.g. 172.17.0.0/16 for a browser reaching a
	// container through a Docker bridge. The decision is made on the
	// connection's peer address (http.Request.RemoteAddr, never Host or
	// forwarding headers): a host behind a reverse proxy must list the
	// proxy's address.
	DevIdPAllowCIDRs []netip.Prefix
	// Upstreams maps a name (letters, digits, _; case-insensitive) to the
	// absolute http(s) base URL /api/proxy/<name>/ forwards to with the
	// user's access token.
	Upstreams map[string]string
	// ProtectedPaths are SPA paths that need a session (nil: /protected*;
	// a trailing * matches by prefix); each starts with "/".
	ProtectedPaths []string
	// SPA serves every path no other route takes (after ProtectedPaths),
	// e.g. the handler package spa builds (spa.New: the bundled SPA or a
	// directory). Nil answers such paths 404.
	SPA http.Handler
	// CORSOrigins are other origins (scheme://host[:port]) allowed to call
	// with credentials; never "*": the origin check of NextAuth's POSTs and
	// of the proxy accepts them besides URL's origin. The BFF answers no
	// CORS itself: apply the host's CORS middleware with the same list (see
	// the package doc).
	CORSOrigins []string
	// TrustedProxies are the peers whose X-Forwarded-For and X-Request-Id
	// are believed.
	TrustedProxies []netip.Prefix
	// AllowedGroups restricts sign-in to members of any of these groups
	// (each entry is one group name, commas included); empty allows everyone.
	AllowedGroups []string
	// AllowedEmailDomains restricts sign-in to these email domains
	// (case-insensitive, a leading @ ignored); empty allows everyone.
	AllowedEmailDomains []string
	// SessionGroups adds the user's groups to the session JSON.
	SessionGroups bool
	// Logger receives authbff's logs; nil uses slog.Default().
	Logger *slog.Logger
	// HTTPClient is used for calls to identity providers; nil uses a
	// locked-down default.
	HTTPClient *http.Client
	// TracerProvider, when set, records OpenTelemetry spans (W3C Trace
	// Context propagation): a SERVER span per request named "METHOD
	// /route/template" (continuing a valid incoming traceparent; the logged
	// trace_id is its trace id), child spans for sign-in, the callback and
	// each refresh grant, a CLIENT span per identity provider call and per
	// proxied call (the upstream's traceparent names it as parent), and a
	// span per session store operation. Attributes follow the OpenTelemetry
	// HTTP and database conventions and never hold a user, e-mail, token,
	// cookie, session id or query string. The library never uses the global
	// provider. Nil turns tracing off at no cost: nothing is wrapped, and
	// the trace ids still flow to logs and upstreams as without it.
	TracerProvider trace.TracerProvider
	// ErrorHandler, when set, answers the refusals of Require (and of
	// bffgin.Require): no session, a missing X-CSRF header, a cross-origin
	// call, a store outage. err is a *RequestError (its Status and Code are
	// what authbff would answer; a store outage also wraps ErrUnavailable:
	// keep the session cookie). Nil answers JSON {"error","message"}.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// SessionClaims maps session.user fields to ID token (or userinfo)
	// claims, e.g. {"roles": "cognito:groups", "tenant": "custom:tenant_id"}:
	// strings and arrays as JSON, each at most 1 KiB (4 KiB in all), a value
	// shaped like a token left out; updated with the profile at each refresh
	// (a claim the refreshed claims lack keeps its value). The fields id,
	// name, email, image and groups cannot be mapped.
	SessionClaims map[string]string
	// SessionUserID adds user.id (the provider's subject) to the session JSON.
	SessionUserID bool
	// SessionUpdatable are the keys update({...}) (POST /session with data)
	// may store, at most 2 KiB of JSON in all, shared by every instance and
	// returned at the top level of the session JSON. Other keys are ignored;
	// none of the session JSON's own fields can be listed. Empty: update()'s
	// data is ignored.
	SessionUpdatable []string
	// OnSignIn, OnSession and OnEvent are the Go hooks (NextAuth's
	// callbacks.signIn, callbacks.session and events): see hooks.go.
	OnSignIn  SignInHook
	OnSession SessionHook
	OnEvent   EventHook
	// UpstreamGroups lets only members of one of the listed groups call an
	// upstream (by its Upstreams name): others get 403 {"error":"forbidden"}
	// and the upstream is not called. ProtectedPaths entries name groups the
	// same way: "/admin*:admins|ops".
	UpstreamGroups map[string][]string
	// UpstreamPolicies are the token policies (and WebSocket opt-in) of
	// upstreams, by a name of Upstreams (case-insensitive); an upstream
	// without one gets the session's access token, as always.
	UpstreamPolicies map[string]UpstreamPolicy
	// UpstreamStepUp maps an upstream's name (as in Upstreams) to the
	// authentication its calls require (step-up, RFC 9470): a session that
	// does not meet it gets 401 insufficient_user_authentication naming the
	// acr_values and max_age to sign in with, and the upstream is not called.
	UpstreamStepUp map[string]StepUp
	// CookieSameSite "strict" sends the session cookie SameSite=Strict
	// (the browser-based apps BCP's advice): arriving from a link on
	// another site then shows the app signed out until the next same-site
	// request. "" (default) is Lax, as every other cookie.
	CookieSameSite string
	// CookiePrefix "__Host-Http-" (https only) names the session cookie
	// __Host-Http-...: browsers that know the prefix refuse it unless it is
	// HttpOnly, so no script can plant one. "" keeps __Host-. Changing it
	// signs everyone out once (the old cookie is not read).
	CookiePrefix string
}

// Flavor is the next-auth client generation a BFF serves.
type Flavor string

// The next-auth generations served.
const (
	// FlavorV4 is next-auth 4.x (the default).
	FlavorV4 Flavor = "v4"
	// FlavorV5 is next-auth 5 (Auth.js).
	FlavorV5 Flavor = "v5"
)

// AuthStyle is how a client authenticates at the provider's token endpoint.
type AuthStyle string

// The token endpoint authentication styles.
const (
	// AuthStyleAuto is client_secret_post with a ClientSecret, else none.
	AuthStyleAuto AuthStyle = ""
	// AuthStylePost sends client_id and client_secret in the form body.
	AuthStylePost AuthStyle = "client_secret_post"
	// AuthStyleBasic sends them in an HTTP Basic Authorization header.
	AuthStyleBasic AuthStyle = "client_secret_basic"
	// AuthStyleNone sends only client_id (a public client, PKCE only).
	AuthStyleNone AuthStyle = "none"
	// AuthStylePrivateKeyJWT signs a client assertion (RFC 7523) with
	// ClientKey; no secret travels or exists. The public keys are served at
	// <base>/jwks.
	AuthStylePrivateKeyJWT AuthStyle = "private_key_jwt"
	// AuthStyleSecretJWT HMACs a client assertion with ClientSecret
	// (client_secret_jwt): the secret itself never travels.
	AuthStyleSecretJWT AuthStyle = "client_secret_jwt"
)

// PARMode is when pushed authorization requests (RFC 9126) are used.
type PARMode string

// The PAR modes.
const (
	// PARAuto ("") pushes when the provider's discovery lists a
	// pushed_authorization_request_endpoint.
	PARAuto PARMode = ""
	// PARAlways always pushes (sign-in fails without an endpoint).
	PARAlways PARMode = "always"
	// PARNever never pushes.
	PARNever PARMode = "never"
)

// ProviderType is the protocol a provider speaks.
type ProviderType string

// Provider types.
const (
	// ProviderOIDC is OpenID Connect (discovery, ID token): the default.
	ProviderOIDC ProviderType = "oidc"
	// ProviderOAuth is plain OAuth 2.0 (AuthorizationURL, TokenURL,
	// UserinfoURL, ProfileMap), as GitHub.
	ProviderOAuth ProviderType = "oauth"
)

// Provider is one identity provider: OpenID Connect (the default), plain
// OAuth 2.0 (Type ProviderOAuth), or a preset (GitHub, Google; Microsoft
// Entra ID is OIDC with Tenants).
type Provider struct {
	// ID is the provider id in URLs (/signin/<id>, /callback/<id>):
	// lower-case letters and digits, unique. Empty: "cognito" for Cognito.
	ID string
	// Name is the display name (default "Cognito" for Cognito, else the
	// ID capitalised).
	Name string
	// Issuer is the OIDC issuer URL exactly as the provider's discovery
	// states (https://, or http:// on loopback). Cognito may leave it empty
	// and set CognitoDomain: the user pool's issuer is then learned from the
	// first sign-in (and pinned in DataDir).
	Issuer string
	// ClientID and ClientSecret are the OAuth client's credentials; no
	// secret makes a public client (PKCE only).
	ClientID, ClientSecret string
	// Cognito marks an AWS Cognito user pool (hosted-UI logout, token_use
	// checks, Cognito error advice); any valid ID may name it.
	Cognito bool
	// CognitoDomain is the hosted-UI domain (myapp.auth.eu-west-1.amazoncognito.com
	// or https://auth.example.com).
	CognitoDomain string
	// Scopes default to openid profile email; they must hold openid.
	Scopes []string
	// AuthStyle is the client authentication at the token endpoint.
	AuthStyle AuthStyle
	// UserInfo also reads the userinfo endpoint at sign-in and refresh.
	UserInfo bool
	// IDTokenAlgs are the ID token signature algorithms to accept, in any
	// case (RS256, ES256, EdDSA...; default: the asymmetric ones discovery
	// lists, RS256 for Cognito). none and HS* are refused.
	IDTokenAlgs []string
	// LogoutIDTokenHint sends the ID token as id_token_hint in the
	// browser-visible federated logout URL, for providers that require it.
	LogoutIDTokenHint bool

	// Type is ProviderOIDC ("" too) or ProviderOAuth. A plain OAuth 2.0
	// provider has no Issuer; AuthorizationURL, TokenURL and UserinfoURL
	// are required; state and PKCE are always sent, and the profile's sub
	// (through ProfileMap) is required.
	Type ProviderType
	// AuthorizationURL, TokenURL and UserinfoURL are a plain OAuth 2.0
	// provider's endpoints (https, http on loopback).
	AuthorizationURL, TokenURL, UserinfoURL string
	// ProfileMap maps the session user's fields (sub, name, email, image,
	// email_verified) to the userinfo JSON's keys, fallbacks separated by
	// "|": {"sub": "id", "name": "name|login"}. Empty: sub=sub|id,
	// name=name|login|preferred_username, email=email,
	// image=picture|avatar_url.
	ProfileMap map[string]string
	// GitHub is the GitHub preset (plain OAuth 2.0; ID "github", scopes
	// read:user user:email, sub=id, name=name|login, image=avatar_url, the
	// primary verified e-mail of /user/emails when /user has none).
	GitHub bool
	// GitHubEnterpriseURL is a GitHub Enterprise Server's URL
	// (https://ghe.example.com; API at <url>/api/v3); "" is github.com.
	GitHubEnterpriseURL string
	// Google is the Google preset (OIDC; ID "google", Issuer
	// https://accounts.google.com unless set, its scheme-less iss accepted,
	// AuthorizationParams access_type=offline&prompt=consent unless set).
	Google bool
	// HostedDomain (Google) refuses sign-in (AccessDenied) unless the ID
	// token's hd claim is this domain; it is also sent as hd.
	HostedDomain string
	// Tenants (Microsoft Entra ID) are the tenant ids allowed through a
	// multi-tenant issuer (https://login.microsoftonline.com/common/v2.0 or
	// /organizations/v2.0), required with one; "*" allows every tenant.
	Tenants []string
	// Apple is Sign in with Apple (OIDC; ID "apple", Issuer
	// https://appleid.apple.com unless set, scopes name email,
	// response_mode=form_post). ClientID is the Services ID; there is no
	// ClientSecret: authbff mints the ES256 client secret JWT from
	// ApplePrivateKey (the .p8 file's PEM text) with AppleTeamID and
	// AppleKeyID, short-lived and renewed before it expires.
	Apple                                    bool
	AppleTeamID, AppleKeyID, ApplePrivateKey string
	// AuthorizationParams are default authorization URL parameters
	// (audience for Auth0, domain_hint...), under the ones signIn()
	// passes; the protocol's own (state, nonce, redirect_uri...) are refused.
	AuthorizationParams url.Values
	// GroupsClaim is the claim holding the user's groups (Entra: "roles");
	// empty: cognito:groups, else groups. The groups feed AllowedGroups,
	// SessionGroups, group-guarded ProtectedPaths and upstreams, and
	// RequireGroups.
	GroupsClaim string
	// ClientKey is the PEM text of the private_key_jwt key (RSA 2048+ or
	// EC P-256/384/521; PKCS #8, PKCS #1 or SEC 1), with AuthStyle
	// AuthStylePrivateKeyJWT. More PEM blocks after the first are previous
	// keys: still published at <base>/jwks, never used to sign (rotation).
	ClientKey string
	// ClientKeyID is the first key's kid; "" is its RFC 7638 thumbprint.
	ClientKeyID string
	// PAR is when pushed authorization requests are used (default auto).
	PAR PARMode
	// ClientAssertionAudience is the aud of the client assertions
	// (private_key_jwt, client_secret_jwt): "" the issuer (FAPI 2.0), or
	// "token_endpoint" (Microsoft Entra ID).
	ClientAssertionAudience string
	// DPoP binds each session's tokens to a key pair of its own (RFC 9449):
	// token requests and proxied calls carry DPoP proofs, and the access
	// token is useless without the key, which never leaves the server.
	// An upstream's own token (UpstreamPolicy Resource, Scope, Audience) is
	// bound to the session's key too; authbff's client credentials tokens
	// to a key of the instance.
	DPoP bool
}
