package bff

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func netHTTPCookie(header, name string) string {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", header)
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// FuzzCookieValue: cookieValue finds what net/http's r.Cookie finds.
func FuzzCookieValue(f *testing.F) {
	for _, s := range []string{
		"next-auth.session-token=abc", "a=1; next-auth.session-token=tok; b=2", `next-auth.session-token="quoted"`,
		"next-auth.session-token=", "x=1;next-auth.session-token=v", "next-auth.session-token=a b",
		"next-auth.session-token=a\\b", "next-auth.session-token=1; next-auth.session-token=2", "  next-auth.session-token = v",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		const name = "next-auth.session-token"
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Cookie"] = []string{header}
		got, want := cookieValue(r, name), netHTTPCookie(header, name)
		if want != "" && got != want {
			t.Fatalf("Cookie %q: cookieValue %q, net/http %q", header, got, want)
		}
	})
}

func TestCookieValue(t *testing.T) {
	for header, want := range map[string]string{
		"next-auth.session-token=abc":                          "abc",
		"a=1; next-auth.session-token=tok; b=2":                "tok",
		`next-auth.session-token="quoted"`:                     "quoted",
		"other=1":                                              "",
		"next-auth.session-token=1; next-auth.session-token=2": "1",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", header)
		if got := cookieValue(r, "next-auth.session-token"); got != want || got != netHTTPCookie(header, "next-auth.session-token") {
			t.Errorf("Cookie %q: %q, want %q", header, got, want)
		}
	}
}
