package oidc

// Advice for the error codes of the providers whose codes are their own
// (GitHub) or whose consoles are well known (GitHub, Google, Apple,
// Microsoft Entra ID), by provider id; the generic advice covers the rest.

// providerDiagnosis explains code for the preset providers (ids github,
// google, apple, microsoft-entra-id); false for others.
func providerDiagnosis(code string, s ClientSettings) (Diagnosis, bool) {
	cb := s.CallbackURL
	switch s.ProviderID + " " + code {
	case "github incorrect_client_credentials", "github invalid_client":
		return Diagnosis{
			Cause: "GitHub did not accept the client id and secret.",
			Fix: "Set " + s.ClientIDVar + " and " + s.SecretVar + " to the OAuth app's Client ID and a newly generated client secret " +
				"(GitHub > Settings > Developer settings > OAuth Apps > your app; no quotes or spaces).",
		}, true
	case "github bad_verification_code":
		return Diagnosis{
			Cause: "GitHub refused the sign-in code: it expired (after 10 minutes), was already used, or was issued for another OAuth app.",
			Fix:   "Sign in again. If it repeats, check that the OAuth app's Authorization callback URL is " + cb + " and that nothing exchanges the code twice.",
		}, true
	case "github redirect_uri_mismatch":
		return Diagnosis{
			Cause: "The callback URL is not the OAuth app's Authorization callback URL.",
			Fix:   "Set the OAuth app's Authorization callback URL to " + cb + " (GitHub > Settings > Developer settings > OAuth Apps).",
		}, true
	case "google invalid_client", "google unauthorized_client":
		return Diagnosis{
			Cause: "Google did not accept the OAuth client.",
			Fix: "Copy the Client ID and secret of a Web application client (Google Cloud console > APIs & Services > Credentials) into " +
				s.ClientIDVar + " and " + s.SecretVar + ", and add " + cb + " to its Authorized redirect URIs.",
		}, true
	case "apple invalid_client":
		return Diagnosis{
			Cause: "Apple did not accept the client secret authbff minted: the Services ID, team id, key id or .p8 key do not belong together, or the key was revoked.",
			Fix: "Check AUTH_APPLE_ID (the Services ID, not the App ID), AUTH_APPLE_TEAM_ID, AUTH_APPLE_KEY_ID and the .p8 key " +
				"(Certificates, Identifiers & Profiles > Keys, with Sign in with Apple enabled for the primary App ID of the Services ID), and that " +
				cb + " is a Return URL of the Services ID.",
		}, true
	case "microsoft-entra-id invalid_client", "microsoft-entra-id unauthorized_client":
		return Diagnosis{
			Cause: "Microsoft Entra ID did not accept the app registration's credentials (AADSTS7000215 and friends: a wrong or expired client secret).",
			Fix: "Copy the Application (client) ID into " + s.ClientIDVar + " and a current client secret's Value (not its ID) into " + s.SecretVar +
				" (Entra admin center > App registrations > your app > Certificates & secrets), and add " + cb + " as a Web redirect URI.",
		}, true
	}
	return Diagnosis{}, false
}
