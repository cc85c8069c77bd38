package session

import "time"

// User is the signed-in user's profile as NextAuth's session.user shows it.
type User struct {
	// ID is the user's id (the IdP subject).
	ID string `json:"id,omitempty"`
	// Name is the display name.
	Name string `json:"name,omitempty"`
	// Email is the e-mail address.
	Email string `json:"email,omitempty"`
	// Image is a picture URL.
	Image string `json:"image,omitempty"`
	// Groups are the IdP groups (Cognito "cognito:groups").
	Groups []string `json:"groups,omitempty"`
}

// Tokens are the OAuth tokens of a session. They never leave the server.
type Tokens struct {
	// IDToken is the raw OIDC ID token (kept for RP-initiated logout).
	IDToken string `json:"id_token,omitempty"`
	// AccessToken is the bearer token sent to upstream APIs.
	AccessToken string `json:"access_token,omitempty"`
	// RefreshToken obtains new access tokens; empty when the IdP sent none.
	RefreshToken string `json:"refresh_token,omitempty"`
	// TokenType is the token type, normally "Bearer".
	TokenType string `json:"token_type,omitempty"`
	// AccessExpiry is when AccessToken expires; zero when unknown.
	AccessExpiry time.Time `json:"expires_at,omitzero"`
}

// Data is the secret part of a session: it is stored only sealed (encrypted
// and authenticated under a key derived from the cookie token).
type Data struct {
	// Provider is the provider id the user signed in with (e.g. "cognito").
	Provider string `json:"provider,omitempty"`
	// Issuer is the ID token's "iss".
	Issuer string `json:"iss,omitempty"`
	// Subject is the ID token's "sub".
	Subject string `json:"sub,omitempty"`
	// User is the profile shown to the browser.
	User User `json:"user"`
	// Tokens are the OAuth tokens.
	Tokens Tokens `json:"tokens"`
	// RefreshError is set (e.g. "RefreshAccessTokenError") after a refresh
	// failed; it is surfaced to the client as session.error.
	RefreshError string `json:"refresh_error,omitempty"`
	// RefreshedAt is when the tokens were last refreshed; zero if never.
	RefreshedAt time.Time `json:"refreshed_at,omitzero"`
	// Claims are extra fields of session.user (AUTH_SESSION_CLAIMS, a
	// sign-in hook's fields): field name -> JSON text. Never a token.
	Claims map[string]string `json:"claims,omitempty"`
	// Extra are the top-level fields update() stored
	// (AUTH_SESSION_UPDATABLE): key -> JSON text.
	Extra map[string]string `json:"extra,omitempty"`
	// Upstreams are access tokens obtained for one upstream API each (a
	// refresh grant narrowed by resource, scope or audience), by upstream
	// name; nil when the session has none.
	Upstreams map[string]UpstreamToken `json:"upstreams,omitempty"`
	// ACR is the sign-in ID token's acr, AuthTime its auth_time (Unix
	// seconds, 0 when absent): what step-up requirements are checked against.
	ACR      string `json:"acr,omitempty"`
	AuthTime int64  `json:"auth_time,omitempty"`
	// DPoPKey is the session's DPoP private key (PKCS #8 DER), "" without
	// DPoP: sealed with the rest, never sent to the browser.
	DPoPKey string `json:"-"`
}

// UpstreamToken is an access token obtained for one upstream API.
type UpstreamToken struct {
	// AccessToken is the bearer token sent to that upstream.
	AccessToken string `json:"access_token"`
	// Expiry is when AccessToken expires; zero when unknown.
	Expiry time.Time `json:"expires_at,omitzero"`
	// Params identifies the grant's parameters (resource, scope,
	// audience): a token asked for with other parameters is not reused.
	Params string `json:"params,omitempty"`
}

// Session is a loaded session: the Record's metadata plus the opened Data.
type Session struct {
	// ID is the record id: hex(SHA-256(cookie token)).
	ID string
	// UserKey is UserKey(Data.Provider, Data.Subject) at creation.
	UserKey string
	// SID is the IdP session id, if any.
	SID string
	// UserAgent is the browser's User-Agent at sign-in (truncated).
	UserAgent string
	// Created is when the session was made.
	Created time.Time
	// LastSeen is when the expiry was last extended.
	LastSeen time.Time
	// Expires is when the session ends unless extended again; never after
	// Created plus the Manager's AbsoluteLifetime.
	Expires time.Time
	// Version is the Record version this Session was read at (or saved as).
	Version int64
	// Data is the opened secret payload.
	Data Data
	// Extended is true when this Load slid the expiry forward and stored it;
	// the caller should then rewrite the cookie with the new Expires.
	Extended bool
}

// Meta is request metadata recorded at session creation.
type Meta struct {
	// UserAgent is the browser's User-Agent header.
	UserAgent string
	// SID is the IdP's session id ("sid" claim), if any.
	SID string
}

// Info describes a session without any secret: for "list my sessions".
type Info struct {
	// ID is the record id, usable with Manager.DeleteID.
	ID string
	// UserAgent is the browser's User-Agent at sign-in.
	UserAgent string
	// SID is the IdP session id, if any.
	SID string
	// Created is when the session was made.
	Created time.Time
	// LastSeen is when the expiry was last extended.
	LastSeen time.Time
	// Expires is when the session ends unless extended.
	Expires time.Time
}
