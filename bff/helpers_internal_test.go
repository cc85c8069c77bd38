package bff

import (
	"net/netip"
	"testing"

	"github.com/authbff/authbff/spa"
)

// mustPrefixes parses IPs and CIDRs as OptionsFromEnv does.
func mustPrefixes(t testing.TB, list []string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, s := range list {
		p, err := parsePrefix(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// mustSPA is the bundled SPA.
func mustSPA(t testing.TB) *spa.Handler {
	t.Helper()
	h, err := spa.New(spa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}
