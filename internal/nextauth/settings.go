package nextauth

import (
	"net/url"
	"strings"
	"time"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/oidc"
)

// Settings are the validated settings the core runs with (package bff
// makes them from bff.Options). Every field is set: no defaults apply here.
type Settings struct {
	// URL is the public URL: scheme and host lower-cased, default port
	// dropped, no trailing slash, no query or fragment.
	URL *url.URL
	// BasePath is where the NextAuth routes live ("/api/auth", or URL's
	// path); never ends in a slash.
	BasePath string
	// Flavor is the NextAuth client generation served.
	Flavor auth.Flavor
	// DataDir is where a learned Cognito issuer is pinned; "" keeps it in
	// memory only.
	DataDir string
	// RefreshMargin is how long before expiry an access token is refreshed.
	RefreshMargin time.Duration
	// FederatedSignout ends the IdP session at sign-out; nil: on for Cognito.
	FederatedSignout *bool
	// AllowedGroups and AllowedEmailDomains (lower-case) restrict who may
	// sign in; empty allows everyone.
	AllowedGroups, AllowedEmailDomains []string
	// SessionGroups adds the user's groups to the session JSON.
	SessionGroups bool
	// CORSOrigins are the other origins allowed to call with credentials
	// ("scheme://host[:port]").
	CORSOrigins []string
	// SessionClaims map ID token (or userinfo) claims to fields of
	// session.user (claims.go); none of them is a reserved user field.
	SessionClaims []ClaimMap
	// SessionUserID adds user.id (the provider's subject) to the session JSON.
	SessionUserID bool
	// SessionUpdatable are the top-level keys update() may store; none is
	// a field of the session JSON's own.
	SessionUpdatable []string
	// Hooks are the host's callbacks and event listeners (hooks.go); nil
	// fields are off.
	Hooks Hooks
	// CookiePrefix "__Host-Http-" names the session cookie with that prefix
	// instead of "__Host-" (https only); "" keeps "__Host-".
	CookiePrefix string
}

// Origin returns scheme://host[:port] of URL.
func (s *Settings) Origin() string { return s.URL.Scheme + "://" + s.URL.Host }

// Secure reports whether URL is https (cookies then get Secure and the
// __Secure-/__Host- names).
func (s *Settings) Secure() bool { return s.URL.Scheme == "https" }

// CallbackURL returns the absolute redirect URI of a provider, the string
// to register at the IdP.
func (s *Settings) CallbackURL(providerID string) string {
	return s.Origin() + s.BasePath + "/callback/" + providerID
}

// Provider is one validated identity provider.
type Provider struct {
	// ID is the provider id in URLs; Name its display name.
	ID, Name string
	// Issuer is the issuer exactly as configured; "" with LearnIssuer.
	Issuer string
	// LearnIssuer: Cognito configured with only its hosted-UI domain; the
	// pool's issuer is learned from the first ID token and pinned.
	LearnIssuer bool
	// ClientID and ClientSecret ("" for a public client) are the OAuth
	// client's credentials.
	ClientID, ClientSecret string
	// Cognito applies Cognito's rules (logout, token_use, diagnosis);
	// CognitoDomain is its hosted-UI origin, "" if unknown.
	Cognito       bool
	CognitoDomain string
	// Scopes always hold openid.
	Scopes []string
	// AuthStyle is the client authentication at the token endpoint.
	AuthStyle oidc.AuthStyle
	// UserInfo also reads the userinfo endpoint.
	UserInfo bool
	// IDTokenAlgs are the ID token signature algorithms to accept; nil: the
	// ones discovery lists (Cognito: RS256).
	IDTokenAlgs []string
	// LogoutIDTokenHint sends the ID token as id_token_hint at sign-out.
	LogoutIDTokenHint bool
	// OAuth2 makes a plain OAuth 2.0 provider (GitHub, AUTH_<ID>_TYPE=oauth):
	// endpoints and profile map; Issuer is then "" and Scopes need no openid.
	OAuth2 *oidc.OAuth2
	// Google accepts Google's scheme-less iss; HostedDomain requires the
	// ID token's hd claim.
	Google       bool
	HostedDomain string
	// Tenants are the Entra tenant ids a multi-tenant issuer lets in ("*":
	// all).
	Tenants []string
	// Apple is Sign in with Apple's client secret key (the secret is minted
	// from it; the callback is a form_post whose "user" field names the user).
	Apple *oidc.AppleKey
	// AuthorizationParams are default authorization parameters, under the
	// ones signIn() passes; none is protected.
	AuthorizationParams url.Values
	// GroupsClaim is the claim holding the user's groups ("" : cognito:groups,
	// else groups).
	GroupsClaim string
	// ClientKeys are the private_key_jwt keys (the first signs; all are
	// published at <base>/jwks).
	ClientKeys []oidc.ClientKey
	// PAR is when pushed authorization requests are used.
	PAR oidc.PARMode
	// DPoP binds the session's tokens to a per-session key (RFC 9449).
	DPoP bool
	// AssertionAudienceToken: client assertions name the token endpoint.
	AssertionAudienceToken bool
}

// Type is NextAuth's provider type in GET /providers: "oauth" for every
// provider in the v4 flavour (NextAuth 4 knew no other) and for plain
// OAuth 2.0 providers, "oidc" for OpenID Connect ones in the v5 flavour.
func (p Provider) Type(f auth.Flavor) string {
	if f == auth.FlavorV5 && p.OAuth2 == nil {
		return "oidc"
	}
	return "oauth"
}

// providerVars are the environment variables that configure p's client,
// for the diagnosis of an IdP's refusal shown to an operator.
func providerVars(p Provider) (clientID, secret, authStyle, scope string) {
	if p.Cognito {
		return "COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET", "COGNITO_AUTH_STYLE", "COGNITO_SCOPE"
	}
	v := "AUTH_" + strings.ReplaceAll(strings.ToUpper(p.ID), "-", "_") + "_"
	return v + "ID", v + "SECRET", v + "AUTH_STYLE", v + "SCOPE"
}

// ScopeVar names the variable holding p's scopes (for doctor's advice).
func ScopeVar(p Provider) string {
	_, _, _, scope := providerVars(p)
	return scope
}
