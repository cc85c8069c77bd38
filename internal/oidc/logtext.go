package oidc

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxLogText is how many bytes of a string an identity provider (or a
// browser posing as one) chose that a log line keeps.
const MaxLogText = 200

// LogText returns s fit for a log line: s itself when it is valid UTF-8 of
// at most MaxLogText bytes; a longer one is cut to at most MaxLogText bytes
// on a rune boundary and followed by "...(truncated, N bytes)"; invalid
// UTF-8 is replaced by U+FFFD. Use it for every IdP-provided string that is
// logged (error, error_description, error_uri, hints, response bodies): one
// unauthenticated request to the callback must not add megabytes to the log.
func LogText(s string) string {
	if len(s) <= MaxLogText {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	i := MaxLogText
	for i > MaxLogText-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i-- // cut before the rune that straddles the limit
	}
	return strings.ToValidUTF8(s[:i], "\uFFFD") + "...(truncated, " + strconv.Itoa(len(s)) + " bytes)"
}
