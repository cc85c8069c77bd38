package oidc

import (
	"errors"
	"fmt"
	"testing"
)

// TestErrorIsByCodeAndEndpoint: the one OAuth error type matches a target
// by code, and by endpoint when the target names one.
func TestErrorIsByCodeAndEndpoint(t *testing.T) {
	err := fmt.Errorf("oidc: refresh: %w", &Error{Endpoint: EndpointToken, Code: "invalid_grant", Description: "expired", Status: 400})
	for _, tt := range []struct {
		target *Error
		want   bool
	}{
		{&Error{}, true},
		{&Error{Code: "invalid_grant"}, true},
		{&Error{Endpoint: EndpointToken, Code: "invalid_grant"}, true},
		{&Error{Endpoint: EndpointToken}, true},
		{&Error{Endpoint: EndpointAuthorization, Code: "invalid_grant"}, false},
		{&Error{Endpoint: EndpointRevocation}, false},
		{&Error{Code: "access_denied"}, false},
	} {
		if got := errors.Is(err, tt.target); got != tt.want {
			t.Errorf("errors.Is(%v, %+v) = %v, want %v", err, tt.target, got, tt.want)
		}
	}
	if got, want := err.Error(), "oidc: refresh: oidc: token endpoint: invalid_grant: expired (http 400)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var oe *Error
	_, _, aerr := ValidateAuthResponse(map[string][]string{"error": {"access_denied"}, "state": {"s"}}, "https://op")
	if !errors.As(aerr, &oe) || oe.Endpoint != EndpointAuthorization || oe.Code != "access_denied" {
		t.Fatalf("authorization error = %#v", aerr)
	}
	if got, want := aerr.Error(), "oidc: authorization endpoint: access_denied"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
