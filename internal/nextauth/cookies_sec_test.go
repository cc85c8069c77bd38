package nextauth

import (
	"testing"

	"github.com/authbff/authbff/internal/auth"
)

func TestPrefixedNames(t *testing.T) {
	n := prefixedNames(auth.Names(auth.FlavorV4, true), HostHTTPPrefix)
	if n.Session != "__Host-Http-next-auth.session-token" || n.CSRF != "__Host-next-auth.csrf-token" {
		t.Fatalf("%+v", n)
	}
	if n := prefixedNames(auth.Names(auth.FlavorV4, false), HostHTTPPrefix); n.Session != "next-auth.session-token" {
		t.Fatalf("http: %+v", n)
	}
	if n := prefixedNames(auth.Names(auth.FlavorV5, true), ""); n.Session != "__Host-authjs.session-token" {
		t.Fatalf("no prefix: %+v", n)
	}
}
