package auth

// Error codes of the NextAuth contract (docs/contract.md "Error codes").
const (
	ErrConfiguration   = "Configuration"
	ErrAccessDenied    = "AccessDenied"
	ErrVerification    = "Verification"
	ErrOAuthSignin     = "OAuthSignin"
	ErrOAuthCallback   = "OAuthCallback"
	ErrCallback        = "Callback"
	ErrSessionRequired = "SessionRequired"
	ErrDefault         = "Default"
	ErrMissingCSRF     = "MissingCSRF"
)

// ClientCode maps an internal (v4) error code to the code the flavour's
// client expects in error URLs: v5 only knows OAuthCallbackError,
// AccessDenied, MissingCSRF and Configuration.
func ClientCode(f Flavor, code string) string {
	if f != FlavorV5 {
		return code
	}
	switch code {
	case ErrOAuthCallback, ErrCallback, ErrOAuthSignin:
		return "OAuthCallbackError"
	case ErrAccessDenied, ErrMissingCSRF, ErrConfiguration, ErrVerification:
		return code
	default:
		return ErrConfiguration
	}
}

// IsSigninError reports whether v4 shows this code on the sign-in page
// (its /error page forwards these to <base>/signin?error=<code>).
func IsSigninError(code string) bool {
	switch code {
	case "Signin", ErrOAuthSignin, ErrOAuthCallback, "OAuthCreateAccount", "EmailCreateAccount",
		ErrCallback, "OAuthAccountNotLinked", "EmailSignin", "CredentialsSignin", ErrSessionRequired:
		return true
	}
	return false
}

// Message is the human text shown for an error code.
func Message(code string) string {
	switch code {
	case ErrConfiguration:
		return "There is a problem with the server configuration. Check the server logs for more information."
	case ErrAccessDenied:
		return "You do not have permission to sign in."
	case ErrVerification:
		return "The sign in link is no longer valid. It may have been used already or it may have expired."
	case ErrOAuthSignin:
		return "Could not start the sign-in with the identity provider. Try again; if it repeats, the provider may be unreachable."
	case ErrOAuthCallback, "OAuthCallbackError":
		return "The sign-in could not be completed: the identity provider's answer was invalid or the sign-in was interrupted. Try signing in again."
	case ErrCallback:
		return "The identity provider refused or cancelled the sign-in."
	case ErrSessionRequired:
		return "Please sign in to access this page."
	case ErrMissingCSRF:
		return "The form was stale or was not sent from this site. Please try again."
	default:
		return "Unable to sign in."
	}
}
