package oidc

import "strings"

// Diagnosis is what to tell a user about an OAuth error code: the likely
// Cause and the Fix to apply, in words a user can act on. Both are safe to
// show in a page or the doctor output (no secrets); the provider's own
// error_description belongs in the log.
type Diagnosis struct {
	Cause string
	Fix   string
}

// ClientSettings name the provider an error is about and the settings that
// configure its client, so that a diagnosis speaks of them.
type ClientSettings struct {
	// ProviderID is the provider id, e.g. "okta" or "cognito".
	ProviderID string
	// ProviderName is the display name ("Okta"); ProviderID when empty.
	ProviderName string
	// Cognito selects Cognito's own advice (its console, its error codes).
	Cognito bool
	// CallbackURL is the exact redirect_uri authbff sends;
	// "<NEXTAUTH_URL>/api/auth/callback/<id>" when empty.
	CallbackURL string
	// ClientIDVar, SecretVar, AuthStyleVar and ScopeVar are the variables
	// that set the client id, the secret, the token endpoint auth style and
	// the scopes. Empty ones default to AUTH_<ID>_ID, AUTH_<ID>_SECRET,
	// AUTH_<ID>_AUTH_STYLE and AUTH_<ID>_SCOPE (<ID> the upper-cased
	// ProviderID), for Cognito to COGNITO_CLIENT_ID, COGNITO_CLIENT_SECRET,
	// COGNITO_AUTH_STYLE and COGNITO_SCOPE.
	ClientIDVar, SecretVar, AuthStyleVar, ScopeVar string
}

// withDefaults fills the empty fields of s as documented.
func (s ClientSettings) withDefaults() ClientSettings {
	id := s.ProviderID
	if id == "" {
		id = "cognito"
		if !s.Cognito {
			id = "oidc"
		}
	}
	if s.ProviderName == "" {
		s.ProviderName = id
	}
	if s.CallbackURL == "" {
		s.CallbackURL = "<NEXTAUTH_URL>/api/auth/callback/" + id
	}
	prefix := "AUTH_" + strings.ToUpper(id) + "_"
	names := [4]string{prefix + "ID", prefix + "SECRET", prefix + "AUTH_STYLE", prefix + "SCOPE"}
	if s.Cognito {
		names = [4]string{"COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET", "COGNITO_AUTH_STYLE", "COGNITO_SCOPE"}
	}
	for i, v := range []*string{&s.ClientIDVar, &s.SecretVar, &s.AuthStyleVar, &s.ScopeVar} {
		if *v == "" {
			*v = names[i]
		}
	}
	return s
}

// DiagnoseClient explains an OAuth error code from the token endpoint (or
// the authorization response) of the provider s describes, naming that
// provider and its variables: Cognito's console and error codes (such as
// "redirect_mismatch" from its error page) only when s.Cognito. It reports
// false for codes it does not know; the caller then shows the code alone.
func DiagnoseClient(code string, s ClientSettings) (Diagnosis, bool) {
	s = s.withDefaults()
	if d, ok := providerDiagnosis(code, s); ok {
		return d, true
	}
	if s.Cognito {
		return cognitoDiagnosis(code, s)
	}
	return genericDiagnosis(code, s)
}

// genericDiagnosis explains a code of a standard OpenID provider.
func genericDiagnosis(code string, s ClientSettings) (Diagnosis, bool) {
	name, cb := s.ProviderName, s.CallbackURL
	switch code {
	case "unauthorized_client":
		return Diagnosis{
			Cause: name + " refused this client for the request: it is not allowed the authorization_code grant " +
				"(or refresh_token), the redirect URI differs from the registered one, " +
				"or the client type does not match (a confidential client used without its secret, or a public client sent one).",
			Fix: "In " + name + "'s settings for this client: allow the authorization_code and refresh_token grants and the response type code, " +
				"register the redirect URI " + cb + " exactly, and set " + s.SecretVar + " for a confidential client " +
				"(unset it for a public one).",
		}, true
	case "invalid_client":
		return Diagnosis{
			Cause: name + " did not accept the client credentials: " + s.ClientIDVar + " or " + s.SecretVar +
				" is wrong, the client was deleted, or it is registered for another client authentication method than the one authbff used.",
			Fix: "Compare " + s.ClientIDVar + " and " + s.SecretVar + " with the client registered at " + name +
				" (no extra spaces or quotes; regenerate the secret if unsure). If they are right, set " + s.AuthStyleVar +
				" to the client's token endpoint authentication method: client_secret_basic, client_secret_post " +
				"(the default with a secret), or none for a public client without " + s.SecretVar + ".",
		}, true
	case "invalid_grant":
		return Diagnosis{
			Cause: "The sign-in code (or refresh token) was expired, already used, revoked or issued to another client, " +
				"the PKCE verifier did not match, or the redirect URI differed from the one the sign-in started with.",
			Fix: "Sign in again. If it repeats: check this server's clock, that nothing (a proxy, a second tab, a retry) exchanges the code twice, " +
				"and that " + cb + " is registered at " + name + " exactly.",
		}, true
	case "invalid_request":
		return Diagnosis{
			Cause: name + " found a parameter missing or malformed in the token request.",
			Fix: "Check that " + name + " accepts PKCE (S256) for this client and the authentication method " + s.AuthStyleVar +
				" selects; otherwise this is a bug in authbff or a proxy altering the request: report it with the log line of this request.",
		}, true
	case "unsupported_grant_type":
		return Diagnosis{
			Cause: name + " does not accept the grant type authbff sent (authorization_code or refresh_token) for this client.",
			Fix:   "Allow the authorization_code and refresh_token grants for this client at " + name + "; if they are allowed, report it with the log line of this request.",
		}, true
	case "invalid_scope":
		return Diagnosis{
			Cause: name + " refused a requested scope: " + s.ScopeVar + " (openid profile email by default) asks for one this client may not use.",
			Fix:   "Allow those scopes for this client at " + name + ", or remove the refused ones from " + s.ScopeVar + " (keep openid).",
		}, true
	}
	return Diagnosis{}, false
}
