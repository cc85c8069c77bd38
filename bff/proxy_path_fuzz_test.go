package bff

// Fuzz target for the proxy path check (upstreamURL).

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// FuzzUpstreamURL checks, for arbitrary request targets under /api/proxy/,
// that a proxied URL stays under the upstream's base path: same scheme and
// host, the base path as a prefix, the query as sent, and no segment that an
// upstream decoding the path once or twice more could take as "." or ".."
// (Tomcat's "..;" and Windows' trailing dots and spaces, "...", ".. ",
// included), nor a separator ("/", "\"), "?", "#" or a control byte (NUL,
// CR, LF, TAB, DEL) after any of those decodings. Refusals
// wrap errBadProxyPath. The target goes through url.ParseRequestURI and the
// same split as proxy.serve, so the inputs are those a server can deliver.
func FuzzUpstreamURL(f *testing.F) {
	for _, s := range []string{
		"demo/items", "demo/items/1?x=1", "demo/.", "demo/a/%2e/b", "demo/a%20b/c", "demo/..", "demo/%2e%2E", "demo/%252e%252e", "demo/..;",
		"demo/..%3b", "demo/a/%2f/b", "demo/a%5cb", "demo/%00", "demo/%", "demo/%zz", "demo/a//b", "demo/.%2e/x",
		"demo/%25%32%65%25%32%65", "demo", "demo/", "demo?q=1", "demo/x?a=%2e%2e/../",
		"demo/..%3f/..%3f/admin", "demo/..%23/x", "demo/%2e%2e%3f", "demo/..%09", "demo/..%20", "demo/%0d%0a",
		"demo/%252e%252e%253f", "demo/...", "demo/v1..2", "demo/a%7f", "demo/..%2520",
	} {
		f.Add(s)
	}
	bases := []string{
		"https://api.example.com",
		"https://api.example.com/v1",
		"https://api.example.com/v1/",
		"http://127.0.0.1:8080/a%20b/c",
	}
	f.Fuzz(func(t *testing.T, target string) {
		req, err := url.ParseRequestURI("/api/proxy/" + target)
		if err != nil {
			return // the server answers 400 before any handler
		}
		rest := strings.TrimPrefix(req.EscapedPath(), "/api/proxy/")
		_, rawRest, slash := strings.Cut(rest, "/")
		rawQuery := req.RawQuery
		for _, b := range bases {
			base, err := url.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			u, err := upstreamURL(base, rawRest, slash, rawQuery)
			if err != nil {
				if !errors.Is(err, errBadProxyPath) {
					t.Fatalf("upstreamURL(%q): error %v does not wrap errBadProxyPath", rawRest, err)
				}
				if !slash {
					t.Fatalf("refused %q although there is no path after the name", rawRest)
				}
				continue
			}
			if u.Scheme != base.Scheme || u.Host != base.Host || u.User != nil || u.RawQuery != rawQuery {
				t.Fatalf("upstreamURL(%q) = %s: left %s", rawRest, u, base)
			}
			ep, baseEP := u.EscapedPath(), base.EscapedPath()
			if !strings.HasPrefix(ep, baseEP) || !strings.HasPrefix(u.Path, base.Path) {
				t.Fatalf("upstreamURL(%q) = %q: not under the base path %q", rawRest, ep, baseEP)
			}
			if dec, err := url.PathUnescape(ep); err != nil || dec != u.Path {
				t.Fatalf("upstreamURL(%q): escaped path %q does not decode to Path %q", rawRest, ep, u.Path)
			}
			if !slash {
				if ep != baseEP {
					t.Fatalf("no slash, yet the path is %q", ep)
				}
				continue
			}
			rest := ep[len(baseEP):]
			if !strings.HasPrefix(rest, "/") {
				t.Fatalf("upstreamURL(%q) = %q: the rest %q does not start a segment", rawRest, ep, rest)
			}
			// What the upstream (or a proxy in front of it) sees after
			// decoding the path zero, one or two more times.
			s := rest[1:]
			for level := 0; level <= 2; level++ {
				for _, seg := range strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '\\' }) {
					dot, _, _ := strings.Cut(seg, ";")
					if strings.HasPrefix(dot, ".") && strings.TrimRight(dot, ". \t") == "" {
						t.Fatalf("upstreamURL(%q) = %q: dot segment %q after %d decodings", rawRest, ep, seg, level)
					}
				}
				if strings.ContainsAny(s, "\\?#") || strings.Count(s, "/") != strings.Count(rest[1:], "/") {
					t.Fatalf("upstreamURL(%q) = %q: a separator, ? or # after %d decodings", rawRest, ep, level)
				}
				for i := 0; i < len(s); i++ {
					if s[i] < 0x20 || s[i] == 0x7f {
						t.Fatalf("upstreamURL(%q) = %q: control byte %#x after %d decodings", rawRest, ep, s[i], level)
					}
				}
				d, err := url.PathUnescape(s)
				if err != nil {
					break // not a valid further encoding: taken literally
				}
				s = d
			}
			// The URL the transport sends parses back to the same path.
			again, err := url.Parse(u.String())
			if err != nil || again.EscapedPath() != ep || again.Host != base.Host {
				t.Fatalf("upstreamURL(%q) = %s re-parses as %v (%v)", rawRest, u, again, err)
			}
		}
	})
}
