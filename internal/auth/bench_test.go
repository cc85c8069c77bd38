package auth

import (
	"strings"
	"testing"
)

// BenchmarkCSRFValid is the double-submit check every POST does.
func BenchmarkCSRFValid(b *testing.B) {
	c := NewCSRF([][]byte{[]byte(strings.Repeat("a", 32)), []byte(strings.Repeat("b", 32))})
	tok, cookie := c.Mint()
	b.ReportAllocs()
	for b.Loop() {
		if !c.Valid(cookie, tok) {
			b.Fatal("invalid")
		}
	}
}

// BenchmarkCSRFValidPreviousSecret is the check of a cookie minted under the
// previous secret (during a rotation: two hashes).
func BenchmarkCSRFValidPreviousSecret(b *testing.B) {
	old := NewCSRF([][]byte{[]byte(strings.Repeat("b", 32))})
	tok, cookie := old.Mint()
	c := NewCSRF([][]byte{[]byte(strings.Repeat("a", 32)), []byte(strings.Repeat("b", 32))})
	b.ReportAllocs()
	for b.Loop() {
		if !c.Valid(cookie, tok) {
			b.Fatal("invalid")
		}
	}
}

// BenchmarkSafeCallbackURL is the callbackUrl policy on a typical relative
// path, an absolute same-origin URL and a rejected one.
func BenchmarkSafeCallbackURL(b *testing.B) {
	const origin = "http://localhost:3000"
	for _, raw := range []string{
		"/protected?tab=1",
		"http://localhost:3000/dashboard/settings",
		"https://evil.example.com/phish",
	} {
		b.Run(strings.NewReplacer("/", "_", ":", "").Replace(raw), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = SafeCallbackURL(raw, origin)
			}
		})
	}
}
