package oidc

import (
	"net/url"
	"strings"
)

// What Cognito does differently, beyond the switches in Config.Cognito
// (token_use, /logout, derived /oauth2/revoke): the hosted-UI base and the
// diagnosis of its token errors (COGNITO.md).

// cognitoBaseFromAuthorize returns the hosted-UI base (origin plus any path
// prefix) of a Cognito authorization endpoint, "" when it does not end in
// /oauth2/authorize.
func cognitoBaseFromAuthorize(authorize string) string {
	u, err := url.Parse(authorize)
	if err != nil || !strings.HasSuffix(u.Path, "/oauth2/authorize") {
		return ""
	}
	u.Path = strings.TrimSuffix(u.Path, "/oauth2/authorize")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return strings.TrimRight(u.String(), "/")
}

// Diagnosis is what to tell a user about an OAuth error code: the likely
// Cause and the Fix to apply, in words a user can act on. Both are safe to
// show in a page or the doctor output (no secrets); the provider's own
// error_description belongs in the log.
type Diagnosis struct {
	Cause string
	Fix   string
}

// Diagnose explains a Cognito error code (from the token endpoint, or
// "redirect_mismatch" from Cognito's own error page) for the callback URL
// callbackURL (the exact URL authbff sends as redirect_uri). It reports
// false for codes it does not know; the caller then shows the code alone.
func Diagnose(code string, callbackURL string) (Diagnosis, bool) {
	cb := callbackURL
	if cb == "" {
		cb = "<NEXTAUTH_URL>/api/auth/callback/cognito"
	}
	switch code {
	case "unauthorized_client":
		return Diagnosis{
			Cause: "Cognito refused this app client: it does not allow the Authorization code grant (or refreshing), " +
				"the callback URL sent to the token endpoint differs from the registered one (often a trailing slash), " +
				"or a client without a secret was sent one (or the reverse).",
			Fix: "In Cognito > App clients > your client > Login pages (Hosted UI settings): tick \"Authorization code grant\" " +
				"and the scopes openid, email and profile; list the callback URL " + cb + " exactly under Allowed callback URLs; " +
				"and use a client WITH a secret together with COGNITO_CLIENT_SECRET, or a client without a secret with COGNITO_CLIENT_SECRET unset.",
		}, true
	case "invalid_client":
		return Diagnosis{
			Cause: "Cognito does not recognise the client credentials: the client id or secret is wrong, or the app client was deleted.",
			Fix: "Compare COGNITO_CLIENT_ID and COGNITO_CLIENT_SECRET with Cognito > App clients > Show details (no extra spaces or quotes); " +
				"if unsure, regenerate the secret and set COGNITO_CLIENT_SECRET again.",
		}, true
	case "invalid_grant":
		return Diagnosis{
			Cause: "The sign-in code (or refresh token) was expired, already used, revoked, from another client, " +
				"or the PKCE verifier did not match; it also happens when the client may not read an attribute a requested scope implies.",
			Fix: "Sign in again. If it repeats: check this server's clock, that nothing (a proxy, a second tab, a retry) exchanges the code twice, " +
				"and the app client's attribute read permissions in Cognito.",
		}, true
	case "invalid_request":
		return Diagnosis{
			Cause: "Cognito found a parameter missing or malformed in the token request (also reported for PKCE mismatches).",
			Fix:   "This is a bug in authbff or a proxy altering the request: report it with the log line of this request.",
		}, true
	case "unsupported_grant_type":
		return Diagnosis{
			Cause: "Cognito does not accept the grant type authbff sent.",
			Fix:   "This is a bug in authbff: report it with the log line of this request.",
		}, true
	case "redirect_mismatch":
		return Diagnosis{
			Cause: "The callback URL " + cb + " is not in the app client's Allowed callback URLs, so Cognito stops at its own error page.",
			Fix: "In Cognito > App clients > your client > Login pages, add " + cb + " exactly (scheme, host, port, path, no trailing slash) " +
				"to Allowed callback URLs, and check NEXTAUTH_URL.",
		}, true
	}
	return Diagnosis{}, false
}
