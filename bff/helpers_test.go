package bff_test

import (
	"net/url"
	"testing"

	"github.com/authbff/authbff/spa"
)

// spaHandler is the bundled SPA.
func spaHandler(t testing.TB) *spa.Handler {
	t.Helper()
	h, err := spa.New(spa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// mustURL parses s.
func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
