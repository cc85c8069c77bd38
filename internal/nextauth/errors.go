package nextauth

import (
	"errors"
	"net/http"

	"github.com/authbff/authbff/internal/session"
)

// Error is the one error type of the contract's use cases. The adapters turn
// it into an answer in one place (bff's writeError): a navigation is sent
// to URL (the error page, or the flavour's CSRF failure URL), a fetch gets
// Status and {"error": Code, "message": Message}; Unavailable answers 503
// with Retry-After and never touches the session cookie.
type Error struct {
	// Code is the contract's error code (OAuthCallback, AccessDenied,
	// Configuration, ...) or, for fetch-only routes, a JSON error code
	// (unauthenticated, csrf_header_missing, ...).
	Code string
	// Status is the HTTP status of a fetch answer.
	Status int
	// Message says what happened and what to do, for people.
	Message string
	// URL, when set, is where a navigation (or a {url} answer in JSON mode)
	// must go instead of a JSON error.
	URL string
	// Unavailable marks a session store (or IdP keys) outage: 503 with
	// Retry-After, the session stays.
	Unavailable bool
	// Err is the cause, for logs only (never shown).
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return "nextauth: " + e.Code + ": " + e.Err.Error()
	}
	return "nextauth: " + e.Code + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Codes of the fetch-only answers.
const (
	CodeUnauthenticated   = "unauthenticated"
	CodeStoreUnavailable  = "session_store_unavailable"
	CodeCSRFHeaderMissing = "csrf_header_missing"
	CodeCrossOrigin       = "cross_origin"
	CodeBadRequest        = "bad_request"
	CodeNotFound          = "not_found"
	CodeNoAccessToken     = "no_access_token"
	// CodeAccessTokenExpired: the session has no refresh token and its
	// access token expired; the SPA must sign in again.
	CodeAccessTokenExpired = "access_token_expired"
)

// unavailable is the answer to a store fault: the user is still signed in.
func unavailable(err error) *Error {
	return &Error{
		Code: CodeStoreUnavailable, Status: http.StatusServiceUnavailable, Unavailable: true, Err: err,
		Message: "The session store cannot be reached right now. You are still signed in; try again in a few seconds.",
	}
}

// Unauthenticated is the answer of a route that needs a session and has none.
func Unauthenticated(message string) *Error {
	if message == "" {
		message = "sign in first: this route needs a session"
	}
	return &Error{Code: CodeUnauthenticated, Status: http.StatusUnauthorized, Message: message}
}

// Fetch makes a fetch-only error answer.
func Fetch(status int, code, message string) *Error {
	return &Error{Code: code, Status: status, Message: message}
}

// storeErr turns a session-store error into the answer: ErrUnavailable (and
// anything unexpected) is 503.
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
		return e.Unavailable
	}
	return errors.Is(err, session.ErrUnavailable)
}
