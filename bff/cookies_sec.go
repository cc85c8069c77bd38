package bff

import (
	"net/http"
	"strings"

	"github.com/authbff/authbff/internal/nextauth"
)

// sameSite is the SameSite attribute of cookie name: Strict for the
// session cookie with CookieSameSite "strict", else Lax.
func (j *cookieJar) sameSite(name string) http.SameSite {
	if j.strict != "" && name == j.strict {
		return http.SameSiteStrictMode
	}
	return http.SameSiteLaxMode
}

// strictCookie is the cookie sent SameSite=Strict ("" none).
func (b *BFF) strictCookie() string {
	if !b.cfg.CookieSameSiteStrict {
		return ""
	}
	return b.core.Names().Session
}

// resolveCookies checks CookieSameSite and CookiePrefix.
func (o Options) resolveCookies(p *problems, s *settings) {
	switch strings.ToLower(o.CookieSameSite) {
	case "", "lax":
	case "strict":
		s.CookieSameSiteStrict = true
	default:
		p.add("CookieSameSite", " %q: use \"strict\" or leave it empty (Lax)", o.CookieSameSite)
	}
	switch o.CookiePrefix {
	case "":
	case nextauth.HostHTTPPrefix:
		s.CookiePrefix = o.CookiePrefix
		if o.URL != "" && !strings.HasPrefix(strings.ToLower(o.URL), "https://") {
			p.add("CookiePrefix", " %q needs an https URL (browsers refuse __Host- cookies on http)", o.CookiePrefix)
		}
	default:
		p.add("CookiePrefix", " %q: use %q or leave it empty", o.CookiePrefix, nextauth.HostHTTPPrefix)
	}
}
