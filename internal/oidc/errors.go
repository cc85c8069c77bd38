package oidc

import "fmt"

// Endpoint names the provider endpoint an OAuth error came from.
type Endpoint string

// The endpoints whose OAuth error answers are an *Error.
const (
	// EndpointAuthorization: the authorization response the browser brought
	// back to the callback (error=...&error_description=...).
	EndpointAuthorization Endpoint = "authorization"
	// EndpointToken: the token endpoint (code exchange, refresh).
	EndpointToken Endpoint = "token"
	// EndpointRevocation: the revocation endpoint (RFC 7009).
	EndpointRevocation Endpoint = "revocation"
	// EndpointPAR: the pushed authorization request endpoint (RFC 9126).
	EndpointPAR Endpoint = "pushed_authorization_request"
)

// Error is the one OAuth error type: an error answer (or, from the token
// and revocation endpoints, an unreadable answer) of a provider endpoint,
// mirroring the wire's error and error_description. Code is the OAuth
// error code, or "invalid_response" when the body was not a usable OAuth
// answer (HTML, redirect, non-JSON). Description is the provider's
// error_description: log it, do not show it to end users (show Code and
// Diagnose's fix). Both are passed through LogText (at most about
// MaxLogText bytes): anyone can send an authorization response. After an
// authorization error the token endpoint must never be called.
type Error struct {
	// Endpoint is where the error came from.
	Endpoint Endpoint
	// Code is the OAuth error code (invalid_grant, access_denied, ...).
	Code string
	// Description is the provider's error_description, for logs.
	Description string
	// Status is the HTTP status of the endpoint's answer, 0 when unknown
	// (always 0 for an authorization response).
	Status int
}

// Error includes the endpoint, code, description and status.
func (e *Error) Error() string {
	s := "oidc: " + string(e.Endpoint) + " endpoint: " + e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.Status != 0 {
		s += fmt.Sprintf(" (http %d)", e.Status)
	}
	return s
}

// Is makes errors.Is(err, &Error{Code: "invalid_grant"}) match by code and,
// when the target names one, by endpoint (an empty target code matches any
// code).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return (t.Code == "" || t.Code == e.Code) && (t.Endpoint == "" || t.Endpoint == e.Endpoint)
}
