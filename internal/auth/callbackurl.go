package auth

import (
	"net/url"
	"strings"
)

// SafeCallbackURL applies the callbackUrl policy: the result is always an
// absolute URL on origin (scheme://host[:port], no trailing slash).
//
// It follows NextAuth's rule (a value starting with "/" is joined to the
// origin; an absolute URL on the same origin is kept; anything else becomes
// the origin) and is stricter: values with control characters, whitespace,
// backslashes, a protocol-relative start ("//", "/\", or their percent-encoded
// forms), userinfo, or a scheme other than http/https fall back to origin.
// ok reports whether raw was accepted as given.
func SafeCallbackURL(raw, origin string) (result string, ok bool) {
	if raw == "" || len(raw) > 4096 {
		return origin, false
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= 0x20 || c == 0x7f || c == '\\' {
			return origin, false
		}
	}
	// Decode repeatedly so encoded tricks (%2F%2F, %5C, %09) are seen as
	// the browser or a later hop might see them.
	dec := raw
	for i := 0; i < 3; i++ {
		d, err := url.PathUnescape(dec)
		if err != nil {
			return origin, false
		}
		if d == dec {
			break
		}
		dec = d
	}
	if strings.ContainsAny(dec, "\\\x00\t\r\n") {
		return origin, false
	}
	if strings.HasPrefix(raw, "/") {
		if strings.HasPrefix(raw, "//") || strings.HasPrefix(dec, "//") {
			return origin, false
		}
		u, err := url.Parse(origin + raw)
		if err != nil || !sameOrigin(u, origin) {
			return origin, false
		}
		return origin + raw, true
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Opaque != "" || !sameOrigin(u, origin) {
		return origin, false
	}
	if strings.HasPrefix(u.EscapedPath(), "//") || strings.HasPrefix(u.Path, "//") {
		return origin, false
	}
	return raw, true
}

func sameOrigin(u *url.URL, origin string) bool {
	if u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	if u.User != nil {
		return false
	}
	o, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Scheme, o.Scheme) && strings.EqualFold(hostPort(u), hostPort(o))
}

// hostPort returns host:port with the scheme's default port made explicit.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		if u.Scheme == "https" {
			port = "443"
		} else {
			port = "80"
		}
	}
	return strings.ToLower(u.Hostname()) + ":" + port
}
