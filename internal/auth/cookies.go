package auth

import (
	"net/http"
	"strings"
	"time"
)

// Flavor selects which generation of the NextAuth client authbff speaks to.
type Flavor string

// The supported client flavours.
const (
	FlavorV4 Flavor = "v4"
	FlavorV5 Flavor = "v5"
)

// CookieNames are the cookie names of one flavour on one scheme (docs/contract.md
// "Cookies": __Host- names on https). Flow cookies are per flow:
// FlowPrefix + "." + a flow key.
type CookieNames struct {
	Session     string
	CSRF        string
	CallbackURL string
	FlowPrefix  string
	// SignoutReturn remembers, across a federated sign-out's trip through
	// the IdP (which may only send the browser back to the origin), the
	// callbackUrl the user is to end on.
	SignoutReturn string
	// Legacy are the names earlier releases used on https; all empty on
	// http, where the names did not change.
	Legacy LegacyCookieNames
}

// LegacyCookieNames are the https cookie names of releases before the
// __Host- prefix: NextAuth's __Secure- names. A __Secure- cookie may carry a
// Domain attribute, so any sibling subdomain can plant one for the whole
// site (cookie tossing); a __Host- cookie can only be set by the origin
// itself (Secure, Path=/, no Domain).
//
// Only the session cookie is still read, so that a deploy signs nobody out.
// The other legacy cookies are never read: a flow or callback-url cookie
// planted by a sibling is exactly the login-CSRF attack the prefix closes,
// and losing one only restarts a sign-in that was in progress during the
// deploy (a flow lives FlowMaxAge). Clear them when seen (Ignored).
type LegacyCookieNames struct {
	// Session is read only when the request has no CookieNames.Session
	// cookie (see CookieNames.SessionToken); the HTTP layer then sets the
	// same token under CookieNames.Session and clears this name.
	Session string
	// CallbackURL, FlowPrefix and SignoutReturn are never read.
	CallbackURL   string
	FlowPrefix    string
	SignoutReturn string
}

// Names returns the cookie names for a flavour. secure (an https origin)
// selects __Host- names for every cookie, as the IETF OAuth 2.0 for
// Browser-Based Applications draft recommends for a BFF, and fills Legacy
// with the __Secure- names of earlier releases.
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
	if !secure {
		return n
	}
	// The CSRF cookie always had the __Host- name: it has no legacy name.
	n.Legacy = LegacyCookieNames{
		Session:       "__Secure-" + n.Session,
		CallbackURL:   "__Secure-" + n.CallbackURL,
		FlowPrefix:    "__Secure-" + n.FlowPrefix,
		SignoutReturn: "__Secure-" + n.SignoutReturn,
	}
	n.Session = "__Host-" + n.Session
	n.CSRF = "__Host-" + n.CSRF
	n.CallbackURL = "__Host-" + n.CallbackURL
	n.FlowPrefix = "__Host-" + n.FlowPrefix
	n.SignoutReturn = "__Host-" + n.SignoutReturn
	return n
}

// SessionToken picks the session token from a request's cookies, given
// cookie (the value of the named cookie, "" when absent): the Session
// cookie, else the legacy one. legacy reports that the token came from
// Legacy.Session; the caller must then, once the session loads, set the
// token under Session (same expiry) and clear Legacy.Session.
func (n CookieNames) SessionToken(c CookieGetter) (token string, legacy bool) {
	if t := c.Get(n.Session); t != "" || n.Legacy.Session == "" {
		return t, false
	}
	if t := c.Get(n.Legacy.Session); t != "" {
		return t, true
	}
	return "", false
}

// CookieGetter reads a request's cookie by name ("" when absent).
type CookieGetter interface{ Get(name string) string }

// CookieFunc adapts a function to CookieGetter.
type CookieFunc func(name string) string

// Get implements CookieGetter.
func (f CookieFunc) Get(name string) string { return f(name) }

// Ignored reports whether a request cookie name is a legacy cookie that is
// never read (callback-url, signout-return, a flow cookie): the HTTP layer
// should clear it. The legacy session cookie is not Ignored: it is migrated.
func (l LegacyCookieNames) Ignored(name string) bool {
	if l.FlowPrefix == "" {
		return false
	}
	return name == l.CallbackURL || name == l.SignoutReturn || strings.HasPrefix(name, l.FlowPrefix+".")
}

// MaxCookieBytes is the size a cookie's whole Set-Cookie value (name, value
// and attributes) must stay within. RFC 6265bis and the browsers limit
// name plus value to 4096 bytes and silently drop a larger cookie; counting
// the attributes as well leaves room for any browser that counts them.
const MaxCookieBytes = 4096

// worstMaxAge is the longest Max-Age authbff could write: browsers cap a
// cookie's lifetime at 400 days.
const worstMaxAge = 400 * 24 * 60 * 60

// FitsCookie reports whether a cookie named name holding value fits a
// browser (MaxCookieBytes), counting the Set-Cookie header authbff writes
// with the most attributes it uses (Path=/, Expires, Max-Age, HttpOnly,
// Secure, SameSite=Lax). value must be a valid cookie value as written
// (authbff's are base64url or query-escaped). An invalid name never fits.
func FitsCookie(name, value string) bool {
	s := (&http.Cookie{
		Name: name, Value: value, Path: "/",
		Expires: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), MaxAge: worstMaxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	}).String()
	return s != "" && len(s) <= MaxCookieBytes
}
