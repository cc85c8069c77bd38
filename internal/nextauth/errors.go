package nextauth

import (
	"errors"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/session"
)

// Error is the one error type of the contract's use cases: WHAT went wrong
// (a Code of the vocabulary below and a message for people), never how it
// is answered. The adapter turns it into an answer in one place (bff's
// errors.go: one table from Code to HTTP status): a navigation is sent to
// URL (the error page, or the flavour's CSRF failure URL), a fetch gets the
// code's status and {"error": Code, "message": Message}; an outage
// (Unavailable) is answered 503 with Retry-After and never touches the
// session cookie.
type Error struct {
	// Code is the error's code in the vocabulary (Codes).
	Code Code
	// Message says what happened and what to do, for people.
	Message string
	// URL, when set, is where a navigation (or a {url} answer in JSON mode)
	// must go instead of a JSON error.
	URL string
	// Err is the cause, for logs only (never shown).
	Err error
	// Details are extra members of the JSON answer beside "error" and
	// "message" (step-up's acr_values and max_age); nil for most errors.
	Details map[string]any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return "nextauth: " + string(e.Code) + ": " + e.Err.Error()
	}
	return "nextauth: " + string(e.Code) + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Unavailable reports whether e is an outage (the session store, or the
// IdP's keys, cannot be reached): the user is still signed in, retry.
func (e *Error) Unavailable() bool {
	return e.Code == CodeStoreUnavailable || e.Code == CodeKeysUnavailable
}

// Code is an error code of authbff's one vocabulary. Add a code here, to
// Codes, to codeMessages (or auth.Message for a contract code) and to bff's
// answer table (bff/errors.go); the tests of both packages fail until all
// four agree.
type Code string

// Codes of the NextAuth contract: what the error page shows
// (<base>/error?error=Code; v5 sees auth.ClientCode's names).
const (
	CodeConfiguration   Code = auth.ErrConfiguration
	CodeAccessDenied    Code = auth.ErrAccessDenied
	CodeVerification    Code = auth.ErrVerification
	CodeOAuthSignin     Code = auth.ErrOAuthSignin
	CodeOAuthCallback   Code = auth.ErrOAuthCallback
	CodeCallback        Code = auth.ErrCallback
	CodeSessionRequired Code = auth.ErrSessionRequired
	CodeDefault         Code = auth.ErrDefault
	CodeMissingCSRF     Code = auth.ErrMissingCSRF
)

// Codes of the JSON answers ({"error": code, "message"}) of the fetch-only
// routes: the use cases', then the adapter's own refusals (proxy, admin,
// development IdP, readiness).
const (
	CodeUnauthenticated Code = "unauthenticated"
	// CodeStoreUnavailable: the session store cannot be reached (an outage).
	CodeStoreUnavailable Code = "session_store_unavailable"
	// CodeKeysUnavailable: the IdP's signing keys cannot be fetched (an
	// outage of the back-channel logout).
	CodeKeysUnavailable   Code = "temporarily_unavailable"
	CodeCSRFHeaderMissing Code = "csrf_header_missing"
	CodeCrossOrigin       Code = "cross_origin"
	CodeBadRequest        Code = "bad_request"
	CodeInvalidRequest    Code = "invalid_request"
	CodeNotFound          Code = "not_found"
	CodeNoAccessToken     Code = "no_access_token"
	// CodeAccessTokenExpired: the session has no refresh token and its
	// access token expired; the SPA must sign in again.
	CodeAccessTokenExpired Code = "access_token_expired"
	// CodeInternal: a bug or an unexpected failure, logged.
	CodeInternal            Code = "internal_error"
	CodeUnauthorized        Code = "unauthorized"
	CodeMethodNotAllowed    Code = "method_not_allowed"
	CodeUnknownUpstream     Code = "unknown_upstream"
	CodeBadPath             Code = "bad_path"
	CodeBodyTooLarge        Code = "body_too_large"
	CodeUpstreamTimeout     Code = "upstream_timeout"
	CodeUpstreamUnreachable Code = "upstream_unreachable"
	// CodeClientGone: the client went away before the upstream answered
	// (nobody reads the answer; it is counted and logged).
	CodeClientGone      Code = "client_gone"
	CodeDevIdPLoopback  Code = "devidp_loopback_only"
	CodeDevIdPWrongHost Code = "devidp_wrong_host"
	CodeDraining        Code = "draining"
	// CodeForbidden: signed in, but not in a group the route requires
	// (an upstream's groups, RequireGroups, a PROTECTED_PATHS API path's).
	CodeForbidden Code = "forbidden"

	// CodeWrongProvider: the upstream takes tokens of another provider than
	// the session's (UPSTREAM_<NAME>_PROVIDER).
	CodeWrongProvider Code = "wrong_provider"
	// CodeUpstreamTokenRefused: the provider refused a token for this
	// upstream (its resource, scope or audience); the session is kept.
	CodeUpstreamTokenRefused Code = "upstream_token_refused"
	// CodeInsufficientUserAuthentication: the session's authentication
	// (acr, auth_time) does not meet what the route requires (RFC 9470);
	// the answer's Details name the acr_values and max_age to sign in with.
	CodeInsufficientUserAuthentication Code = "insufficient_user_authentication"
)

// Codes returns every code of the vocabulary.
func Codes() []Code {
	return []Code{
		CodeConfiguration, CodeAccessDenied, CodeVerification, CodeOAuthSignin, CodeOAuthCallback,
		CodeCallback, CodeSessionRequired, CodeDefault, CodeMissingCSRF,
		CodeUnauthenticated, CodeStoreUnavailable, CodeKeysUnavailable, CodeCSRFHeaderMissing,
		CodeCrossOrigin, CodeBadRequest, CodeInvalidRequest, CodeNotFound, CodeNoAccessToken,
		CodeAccessTokenExpired, CodeInternal, CodeUnauthorized, CodeMethodNotAllowed,
		CodeUnknownUpstream, CodeBadPath, CodeBodyTooLarge, CodeUpstreamTimeout,
		CodeUpstreamUnreachable, CodeClientGone, CodeDevIdPLoopback, CodeDevIdPWrongHost, CodeDraining,
		CodeForbidden,
		CodeWrongProvider, CodeUpstreamTokenRefused,
		CodeInsufficientUserAuthentication,
	}
}

// IsContract reports whether c is one of the NextAuth contract's codes
// (shown on the error page) rather than a JSON answer's.
func (c Code) IsContract() bool {
	switch c {
	case CodeConfiguration, CodeAccessDenied, CodeVerification, CodeOAuthSignin, CodeOAuthCallback,
		CodeCallback, CodeSessionRequired, CodeDefault, CodeMissingCSRF:
		return true
	}
	return false
}

// codeMessages are the default messages of the JSON answers' codes (the
// contract's codes use auth.Message): what happened and what to do.
var codeMessages = map[Code]string{
	CodeUnauthenticated:     "sign in first: this route needs a session",
	CodeStoreUnavailable:    "The session store cannot be reached right now. You are still signed in; try again in a few seconds.",
	CodeKeysUnavailable:     "the provider's signing keys cannot be fetched; retry later",
	CodeCSRFHeaderMissing:   "send the header X-CSRF: 1 with API calls (fetchApi in auth.js does)",
	CodeCrossOrigin:         "cross-site API calls are refused; add the origin to CORS_ORIGINS if it is yours",
	CodeBadRequest:          "the request is not one this route takes; see the API description (openapi.yaml)",
	CodeInvalidRequest:      "the request body is missing or malformed; see the API description (openapi.yaml)",
	CodeNotFound:            "there is nothing at this path",
	CodeNoAccessToken:       "the session holds no access token: sign in again",
	CodeAccessTokenExpired:  "the access token has expired and cannot be renewed (the provider gave no refresh token): sign in again",
	CodeInternal:            "an internal error occurred; it has been logged",
	CodeUnauthorized:        "send Authorization: Bearer <admin credential> (authbff sessions revoke derives it from NEXTAUTH_SECRET)",
	CodeMethodNotAllowed:    "this method is not proxied",
	CodeUnknownUpstream:     "no such upstream; configure it with UPSTREAM_<NAME>=https://...",
	CodeBadPath:             "the API path is not allowed (no . or .. segments, no encoded slashes, ?, # or control characters)",
	CodeBodyTooLarge:        "the request body is over the 10 MiB limit",
	CodeUpstreamTimeout:     "the API did not answer in time; try again",
	CodeUpstreamUnreachable: "the API cannot be reached right now; try again",
	CodeClientGone:          "the client went away before the API answered",
	CodeDevIdPLoopback:      "the development IdP only answers clients on this machine (or the networks in DEVIDP_ALLOW_CIDRS); configure a real identity provider to serve other clients",
	CodeDevIdPWrongHost:     "the development IdP only answers on NEXTAUTH_URL's host or localhost",
	CodeDraining:            "this instance is shutting down; another one will answer",
	CodeForbidden:           "your account is not in a group this route requires",

	CodeWrongProvider:                  "this API takes tokens of another provider: sign in with that provider",
	CodeUpstreamTokenRefused:           "the provider refused a token for this API (its resource, scope or audience); you are still signed in",
	CodeInsufficientUserAuthentication: "this API needs a stronger or more recent sign-in: call signIn(provider, {callbackUrl}, {acr_values, max_age}) with the values of this answer",
}

// Message is c's default message, for people: what happened and what to
// do ("" for a code outside the vocabulary).
func (c Code) Message() string {
	if c.IsContract() {
		return auth.Message(string(c))
	}
	return codeMessages[c]
}

// NewError returns an *Error with code and message; an empty message is the
// code's default (Code.Message).
func NewError(code Code, message string) *Error {
	if message == "" {
		message = code.Message()
	}
	return &Error{Code: code, Message: message}
}

// unavailable is the answer to a store fault: the user is still signed in.
func unavailable(err error) *Error {
	e := NewError(CodeStoreUnavailable, "")
	e.Err = err
	return e
}

// Unauthenticated is the answer of a route that needs a session and has none.
func Unauthenticated(message string) *Error {
	return NewError(CodeUnauthenticated, message)
}

// ErrSessionEnded is the answer (an unauthenticated *Error) to a request
// whose session has ended for good while it was in use: the IdP refused its
// refresh (invalid_grant, a dead client, another identity), or ended it
// (back-channel logout) while the request held it. The core decides this
// once (AccessToken, ForceRefresh); the adapter asks SessionEnded, clears
// the session cookie and answers as if there were no session. It is never
// the answer to an outage: a store fault keeps the session.
var ErrSessionEnded = &Error{Code: CodeUnauthenticated, Message: "the session has ended: sign in again"}

// SessionEnded reports whether err says the session has ended for good
// (it wraps ErrSessionEnded): clear the session cookie.
func SessionEnded(err error) bool { return errors.Is(err, ErrSessionEnded) }

// storeErr turns a session-store error into the answer: ErrUnavailable (and
// anything unexpected) is CodeStoreUnavailable.
func storeErr(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return unavailable(err)
}

// IsUnavailable reports whether err is a store outage.
func IsUnavailable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Unavailable()
	}
	return errors.Is(err, session.ErrUnavailable)
}
