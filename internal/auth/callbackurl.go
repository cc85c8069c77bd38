package auth

import (
	"net/url"
	"strings"
)

// MaxCallbackURLLen bounds a validated callbackUrl, in bytes (the absolute
// URL SafeCallbackURL returns). It is what keeps every cookie that holds one
// within MaxCookieBytes: the callback-url and signout-return cookies store it
// query-escaped (at most 3 bytes a byte) and the flow cookie stores it sealed
// (JSON, then base64). A longer one falls back to the origin.
const MaxCallbackURLLen = 1024

// SafeCallbackURL applies the callbackUrl policy: the result is always an
// absolute URL on origin (scheme://host[:port], no trailing slash): origin
// itself or origin followed by a path starting with a single "/", at most
// MaxCallbackURLLen bytes (else origin), and printable ASCII only.
//
// It follows NextAuth's rule (a value starting with "/" is joined to the
// origin; an absolute URL on the same origin is kept; anything else becomes
// the origin) and is stricter: values with control characters, whitespace,
// backslashes, a protocol-relative start ("//", "/\", or their percent-encoded
// forms), userinfo, or a scheme other than http/https fall back to origin.
// An accepted absolute URL is rewritten onto origin's own spelling
// ("HTTPS://App.example:443/a" becomes origin+"/a"), and bytes a browser
// percent-encodes when it parses a URL (non-ASCII, `"`, `<`, `>`, "`") are
// percent-encoded, so the result leads where raw led. Applying it to its own
// result returns that result unchanged. ok reports whether raw was accepted;
// false means the result is origin because raw was refused (or empty).
func SafeCallbackURL(raw, origin string) (result string, ok bool) {
	if raw == "" || len(raw) > MaxCallbackURLLen {
		return origin, false
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= 0x20 || c == 0x7f || c == '\\' {
			return origin, false
		}
	}
	if !decodesSafely(raw) {
		return origin, false
	}
	rest := raw
	if !strings.HasPrefix(raw, "/") {
		u, err := url.Parse(raw)
		if err != nil || u.User != nil || u.Opaque != "" || !sameOrigin(u, origin) {
			return origin, false
		}
		// raw is scheme "://" authority [path][?query][#fragment]; only what
		// follows the authority is kept, joined to origin.
		after, found := strings.CutPrefix(raw[len(u.Scheme):], "://")
		if !found {
			return origin, false
		}
		rest = ""
		if i := strings.IndexAny(after, "/?#"); i >= 0 {
			rest = after[i:]
		}
		if rest != "" && rest[0] != '/' {
			rest = "/" + rest
		}
	}
	if strings.HasPrefix(rest, "//") || strings.HasPrefix(decodeRepeated(rest), "//") {
		return origin, false
	}
	result = origin + escapeUnsafe(rest)
	if len(result) > MaxCallbackURLLen {
		return origin, false
	}
	if rest != "" {
		// The joined URL must still parse with origin's authority: this
		// refuses nothing browsers accept, and guards the invariant.
		u, err := url.Parse(result)
		if err != nil || !sameOrigin(u, origin) {
			return origin, false
		}
	}
	return result, true
}

// decodesSafely decodes raw up to three times, so encoded tricks (%2F%2F,
// %5C, %09) are seen as the browser or a later hop might see them, and
// reports whether every decoding was valid and free of backslashes and
// control characters.
func decodesSafely(raw string) bool {
	dec := raw
	for range 3 {
		d, err := url.PathUnescape(dec)
		if err != nil {
			return false
		}
		if d == dec {
			break
		}
		dec = d
	}
	return !strings.ContainsAny(dec, "\\\x00\t\r\n")
}

// decodeRepeated is s decoded up to three times (s itself if it does not
// decode).
func decodeRepeated(s string) string {
	for range 3 {
		d, err := url.PathUnescape(s)
		if err != nil || d == s {
			return s
		}
		s = d
	}
	return s
}

// escapeUnsafe percent-encodes the bytes of s that a browser's URL parser
// would encode in any component (non-ASCII, `"`, `<`, `>`, "`"), leaving the
// rest (valid escapes included) as it is.
func escapeUnsafe(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if unsafeURLByte(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unsafeURLByte(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

func unsafeURLByte(c byte) bool {
	return c >= 0x80 || c == '"' || c == '<' || c == '>' || c == '`'
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
