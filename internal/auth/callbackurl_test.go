package auth

import (
	"strings"
	"testing"
)

func TestSafeCallbackURL(t *testing.T) {
	const origin = "http://localhost:3000"
	tests := []struct {
		raw, want string
		ok        bool
	}{
		{"/protected", origin + "/protected", true},
		{"/protected?x=1#y", origin + "/protected?x=1#y", true},
		{"/a?b=%2F%2Fevil.com", origin + "/a?b=%2F%2Fevil.com", true},
		{"http://localhost:3000/a", "http://localhost:3000/a", true},
		{"http://localhost:3000", origin, true},
		{"http://localhost:3000?x=1", origin + "/?x=1", true},
		{"http://localhost:3000#top", origin + "/#top", true},
		// An accepted absolute URL is put on the origin's own spelling.
		{"http://LOCALHOST:3000/a", origin + "/a", true},
		{"HTTP://localhost:3000/a", origin + "/a", true},
		// What a browser's URL parser would percent-encode is encoded.
		{"/café?q=\"<x>\"#`", origin + "/caf%C3%A9?q=%22%3Cx%3E%22#%60", true},
		{"/\xff", origin + "/%FF", true},
		{"", origin, false},
		{"//evil.com", origin, false},
		{"/\\evil.com", origin, false},
		{"\\\\evil.com", origin, false},
		{"/%2F/evil.com", origin, false},
		{"/%2f%2fevil.com", origin, false},
		{"%2F%2Fevil.com", origin, false},
		{"/%5Cevil.com", origin, false},
		{"/%255C%255Cevil.com", origin, false},
		{"/%252F%252Fevil.com", origin, false},
		{"/\t/evil.com", origin, false},
		{" /evil", origin, false},
		{"/ /evil.com", origin, false},
		{"/100%", origin, false},
		{"https://evil.com/", origin, false},
		{"http://localhost:3000@evil.com/", origin, false},
		{"http://user:pw@localhost:3000/", origin, false},
		{"http://localhost:3001/", origin, false},
		{"https://localhost:3000/", origin, false},
		{"javascript:alert(1)", origin, false},
		{"data:text/html,hi", origin, false},
		{"http:evil.com", origin, false},
		{"http:/evil.com", origin, false},
		{"http://localhost:3000//evil.com", origin, false},
		{"http://localhost:3000/%2F/evil.com", origin, false},
		{"http://evil.com\\@localhost:3000/", origin, false},
		{"/\x00evil", origin, false},
		{"http://localhost:3000.evil.com/", origin, false},
		// The Kelvin sign lower-cases to "k": still only origin's host is used.
		{"http://\u212aey.example/", origin, false},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			got, ok := SafeCallbackURL(tc.raw, origin)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("SafeCallbackURL(%q) = %q, %v; want %q, %v", tc.raw, got, ok, tc.want, tc.ok)
			}
			if again, ok := SafeCallbackURL(got, origin); again != got || !ok {
				t.Fatalf("not idempotent: SafeCallbackURL(%q) = %q, %v", got, again, ok)
			}
		})
	}
	t.Run("default port", func(t *testing.T) {
		if got, ok := SafeCallbackURL("https://x.io:443/a", "https://x.io"); got != "https://x.io/a" || !ok {
			t.Fatalf("default port not treated as same origin: %q, %v", got, ok)
		}
	})
	t.Run("IDN origin host spelled in Unicode", func(t *testing.T) {
		// Whatever the host spelling that passes, the result is on origin.
		if got, _ := SafeCallbackURL("http://\u212aey.example/a", "http://key.example"); got != "http://key.example/a" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestSafeCallbackURLLength(t *testing.T) {
	const origin = "https://app.example.com"
	fill := MaxCallbackURLLen - len(origin) - 1
	longest := "/" + strings.Repeat("a", fill)
	if got, ok := SafeCallbackURL(longest, origin); !ok || len(got) != MaxCallbackURLLen {
		t.Fatalf("a %d-byte callback URL was refused", MaxCallbackURLLen)
	}
	for name, raw := range map[string]string{
		"one byte over":          longest + "a",
		"the issue's 3,000":      "/" + strings.Repeat("a", 3000),
		"over once escaped":      "/" + strings.Repeat("é", fill/2), // each byte becomes %XX
		"absolute one byte over": origin + longest + "a",
	} {
		t.Run(name, func(t *testing.T) {
			if got, ok := SafeCallbackURL(raw, origin); ok || got != origin {
				t.Fatalf("SafeCallbackURL(%d bytes) = %d bytes, %v; want the origin", len(raw), len(got), ok)
			}
		})
	}
}
