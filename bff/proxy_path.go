package bff

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// errBadProxyPath is a proxied path that could leave the upstream's base.
var errBadProxyPath = errors.New("proxy: path refused")

// upstreamURL joins rawRest, the still-escaped request path after
// /api/proxy/<name>/, under base's path (slash says whether that "/" was
// there at all) and keeps rawQuery as sent.
//
// Nothing may step out of the base, for the upstream or for a hop in front
// of it that decodes the path once more: see checkSegment. The remaining
// path is passed on escaped exactly as received.
func upstreamURL(base *url.URL, rawRest string, slash bool, rawQuery string) (*url.URL, error) {
	u := &url.URL{Scheme: base.Scheme, Host: base.Host, Path: base.Path, RawPath: base.EscapedPath(), RawQuery: rawQuery}
	if !slash {
		return u, nil
	}
	for _, seg := range strings.Split(rawRest, "/") {
		if err := checkSegment(seg); err != nil {
			return nil, err
		}
	}
	dec, err := url.PathUnescape(rawRest)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadProxyPath, err)
	}
	u.Path += "/" + dec
	u.RawPath += "/" + rawRest
	return u, nil
}

// checkSegment refuses one escaped path segment that could traverse or
// change the request's meaning. After each of two decodings (the upstream's,
// and one more by a proxy or framework in front of it) the segment must not
//
//   - hold "/", "\" or NUL (%2f, %5c, %00): a separator;
//   - hold "?" or "#" (%3f, %23): a hop that decodes once more ends the path
//     there, so "..%3f" would become "..";
//   - hold another control byte (below 0x20, or 0x7f: %0d%0a, %09);
//   - be a dot segment: up to a ";" (Tomcat's "..;"), only dots, spaces and
//     tabs starting with a dot (".", "..", "...", ".. ", which Windows and
//     IIS trim to ".."), in any encoding (%2e, %252e).
//
// Dots inside a name ("v1..2", "...x", "a.") and encoded spaces ("a%20b")
// pass.
func checkSegment(seg string) error {
	dec := seg
	for range 2 {
		d, err := url.PathUnescape(dec)
		if err != nil {
			if dec == seg {
				return fmt.Errorf("%w: bad escape in %q", errBadProxyPath, seg)
			}
			return nil // not a valid second encoding: taken literally upstream
		}
		dec = d
		if strings.ContainsFunc(dec, refusedInSegment) {
			return fmt.Errorf("%w: %q decodes to a separator, query, fragment or control character", errBadProxyPath, seg)
		}
		if dotSegment(dec) {
			return fmt.Errorf("%w: dot segment %q", errBadProxyPath, seg)
		}
	}
	return nil
}

// refusedInSegment reports whether r may not appear in a decoded segment: a
// separator, the start of a query or fragment, or a control character.
func refusedInSegment(r rune) bool {
	return r == '/' || r == '\\' || r == '?' || r == '#' || r < 0x20 || r == 0x7f
}

// dotSegment reports whether a decoded segment names "." or "..": up to a
// ";", a dot followed only by dots, spaces and tabs.
func dotSegment(dec string) bool {
	name, _, _ := strings.Cut(dec, ";")
	return strings.HasPrefix(name, ".") && strings.TrimRight(name, ". \t") == ""
}
