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
// Nothing may step out of the base: a segment that is "." or "..", in any
// encoding (%2e, %2E, double-encoded %252e, Tomcat's "..;"), or that
// decodes to something holding "/", "\" or NUL (%2f, %5c, %00) is refused.
// The remaining path is passed on escaped exactly as received.
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

// checkSegment refuses one escaped path segment that could traverse.
func checkSegment(seg string) error {
	dec := seg
	// Twice: an upstream (or a proxy in front of it) that decodes once more
	// must not see a traversal either.
	for range 2 {
		d, err := url.PathUnescape(dec)
		if err != nil {
			if dec == seg {
				return fmt.Errorf("%w: bad escape in %q", errBadProxyPath, seg)
			}
			return nil // not a valid second encoding: taken literally upstream
		}
		dec = d
		if strings.ContainsAny(dec, "/\\\x00") {
			return fmt.Errorf("%w: encoded separator in %q", errBadProxyPath, seg)
		}
		dot, _, _ := strings.Cut(dec, ";")
		if dot == "." || dot == ".." {
			return fmt.Errorf("%w: dot segment %q", errBadProxyPath, seg)
		}
	}
	return nil
}
