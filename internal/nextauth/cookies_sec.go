package nextauth

import (
	"log/slog"
	"strings"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/oidc"
)

// HostHTTPPrefix is the cookie prefix that also requires HttpOnly
// (draft-ietf-httpbis-rfc6265bis's __Host-Http-).
const HostHTTPPrefix = "__Host-Http-"

// prefixedNames applies Settings.CookiePrefix to the session cookie.
func prefixedNames(n auth.CookieNames, prefix string) auth.CookieNames {
	if prefix == HostHTTPPrefix && strings.HasPrefix(n.Session, "__Host-") {
		n.Session = HostHTTPPrefix + strings.TrimPrefix(n.Session, "__Host-")
	}
	return n
}

// warnPublicClient logs that a provider without a client secret or key
// is a public client, which the browser-based apps BCP's BFF pattern does
// not want.
func warnPublicClient(log *slog.Logger, pc Provider) {
	if pc.AuthStyle == oidc.AuthStyleNone && pc.OAuth2 == nil {
		log.Warn("provider is a public client (no client secret or key): a BFF should be a confidential client "+
			"(OAuth 2.0 for Browser-Based Apps); register a confidential client and set its secret or, better, private_key_jwt",
			"provider", pc.ID)
	}
}
