package auth

// Flavor selects which generation of the NextAuth client authbff speaks to.
type Flavor string

// The supported client flavours.
const (
	FlavorV4 Flavor = "v4"
	FlavorV5 Flavor = "v5"
)

// CookieNames are the cookie names of one flavour on one scheme (CONTRACT.md
// "Cookies"). Flow cookies are per flow: FlowPrefix + "." + a flow key.
type CookieNames struct {
	Session     string
	CSRF        string
	CallbackURL string
	FlowPrefix  string
	// SignoutReturn remembers, across a federated sign-out's trip through
	// the IdP (which may only send the browser back to the origin), the
	// callbackUrl the user is to end on.
	SignoutReturn string
}

// Names returns the cookie names for a flavour; secure selects the
// __Secure-/__Host- prefixed names used on https.
func Names(f Flavor, secure bool) CookieNames {
	p := "next-auth"
	if f == FlavorV5 {
		p = "authjs"
	}
	n := CookieNames{
		Session:       p + ".session-token",
		CSRF:          p + ".csrf-token",
		CallbackURL:   p + ".callback-url",
		FlowPrefix:    p + ".state",
		SignoutReturn: p + ".signout-return",
	}
	if secure {
		n.Session = "__Secure-" + n.Session
		n.CSRF = "__Host-" + n.CSRF
		n.CallbackURL = "__Secure-" + n.CallbackURL
		n.FlowPrefix = "__Secure-" + n.FlowPrefix
		n.SignoutReturn = "__Secure-" + n.SignoutReturn
	}
	return n
}
