package oidc

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLogText(t *testing.T) {
	long := strings.Repeat("é", 150) // 300 bytes, 2 per rune: the cut falls inside none
	for _, tc := range []struct {
		name, in, want string
	}{
		{"short", "access_denied", "access_denied"},
		{"empty", "", ""},
		{"exactly the limit", strings.Repeat("a", MaxLogText), strings.Repeat("a", MaxLogText)},
		{"long", strings.Repeat("a", 100_000), strings.Repeat("a", MaxLogText) + "...(truncated, 100000 bytes)"},
		{"rune on the limit", "a" + long, "a" + strings.Repeat("é", 99) + "...(truncated, 301 bytes)"},
		{"invalid short", "a\xffb", "a\uFFFDb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := LogText(tc.in)
			if got != tc.want {
				t.Fatalf("LogText = %q, want %q", got, tc.want)
			}
			if !utf8.ValidString(got) || len(got) > MaxLogText+40 {
				t.Fatalf("LogText = %q: invalid or too long (%d bytes)", got, len(got))
			}
		})
	}
}
