package oidc

import (
	"context"
	"errors"
	"net"
	"net/url"
)

// IsTransient reports whether err is worth retrying later with the same
// grant: a network error, a timeout or cancellation, an HTTP 5xx, or an
// unreadable answer ("invalid_response", "server_error",
// "temporarily_unavailable"). A fatal OAuth error (invalid_grant,
// invalid_client, unauthorized_client...) and a refused ID token are not
// transient: for a refresh, the session's tokens are dead. A caller must
// never retry an authorization code exchange, transient or not.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var te *Error
	if errors.As(err, &te) {
		if te.Status >= 500 {
			return true
		}
		switch te.Code {
		case "invalid_response", "server_error", "temporarily_unavailable":
			return true
		}
		return false
	}
	var se *httpStatusError
	if errors.As(err, &se) {
		return se.Status >= 500 || se.Status == 429
	}
	if errors.Is(err, ErrInvalidIDToken) {
		return false
	}
	return isNetErr(err) || errors.Is(err, ErrDiscovery)
}

// isNetErr reports transport-level failures.
func isNetErr(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var ue *url.Error
	return errors.As(err, &ue)
}
