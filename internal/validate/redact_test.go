package validate

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"redis://user:secretpw@cache:6379/0", "redis://user:xxxxx@cache:6379/0"},
		{"redis://cache:6379/0", "redis://cache:6379/0"},
		{"redis://user@cache:6379/0", "redis://user@cache:6379/0"},
		{"redis://user:secretpw@host:notaport/0", "redis://user:xxxxx@host:notaport/0"},
		{"redis://user:se/cr@et@host/0", "redis://user:xxxxx@host/0"},
		{"redis-sentinel://:secretpw@a:26379,b:26379/mymaster?db=1&sentinel_password=secretpw2", "redis-sentinel://:xxxxx@a:26379,b:26379/mymaster?db=1&sentinel_password=xxxxx"},
		{"memroy", "memroy"},
		{"user:secretpw@host", "user:xxxxx@host"},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestRedactErrorKeepsTheChain: RedactError hides the password also where a
// *url.Error quotes the URL, and still wraps the error.
func TestRedactErrorKeepsTheChain(t *testing.T) {
	raw := "redis://user:secr\"et@host:notaport/0"
	_, perr := url.Parse(raw)
	err := RedactError(perr, raw)
	var ue *url.Error
	if !errors.As(err, &ue) || strings.Contains(err.Error(), "secr") {
		t.Fatalf("RedactError = %v (url.Error %v)", err, ue)
	}
}
