package oidc

import (
	"net/url"
	"strings"
)

// What Cognito does differently, beyond the switches in Config.Cognito
// (token_use, /logout, derived /oauth2/revoke, RS256): the hosted-UI base
// and the diagnosis of its token errors (COGNITO.md).

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

// cognitoDiagnosis explains a Cognito error code (from the token endpoint,
// or "redirect_mismatch" from Cognito's own error page) in Cognito's words:
// its console paths and the variables s names.
func cognitoDiagnosis(code string, s ClientSettings) (Diagnosis, bool) {
	cb := s.CallbackURL
	switch code {
	case "unauthorized_client":
		return Diagnosis{
			Cause: "Cognito refused this app client: it does not allow the Authorization code grant (or refreshing), " +
				"the callback URL sent to the token endpoint differs from the registered one (often a trailing slash), " +
				"or a client without a secret was sent one (or the reverse).",
			Fix: "In Cognito > App clients > your client > Login pages (Hosted UI settings): tick \"Authorization code grant\" " +
				"and the scopes openid, email and profile; list the callback URL " + cb + " exactly under Allowed callback URLs; " +
				"and use a client WITH a secret together with " + s.SecretVar + ", or a client without a secret with " + s.SecretVar + " unset.",
		}, true
	case "invalid_client":
		return Diagnosis{
			Cause: "Cognito does not recognise the client credentials: the client id or secret is wrong, or the app client was deleted.",
			Fix: "Compare " + s.ClientIDVar + " and " + s.SecretVar + " with Cognito > App clients > Show details (no extra spaces or quotes); " +
				"if unsure, regenerate the secret and set " + s.SecretVar + " again.",
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
	case "invalid_scope":
		return Diagnosis{
			Cause: "Cognito refused a requested scope: " + s.ScopeVar + " asks for one the app client does not allow.",
			Fix: "In Cognito > App clients > your client > Login pages, allow the scopes " + s.ScopeVar + " asks for " +
				"(openid, email and profile by default), or remove the others from " + s.ScopeVar + ".",
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
