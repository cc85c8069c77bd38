package config

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

// TestConfigErrorsHideURLPasswords (issue 19 C2): no configuration error
// quotes the password of a URL setting, whether the URL parses or not.
func TestConfigErrorsHideURLPasswords(t *testing.T) {
	for _, kv := range [][]string{
		{"SESSION_STORE=redis://user:secretpw@host:notaport/0"},
		{"SESSION_STORE=redis://user:secretpw@host%zz/0"},
		{"SESSION_STORE=mongodb://user:secretpw@host/0"},
		{"SESSION_STORE=redis://user:secretpw@/0"},
		{"SESSION_STORE=user:secretpw@host"},
		{"NEXTAUTH_URL=https://user:secretpw@host:notaport/"},
		{"NEXTAUTH_URL=https://user:secretpw@app.example.com/"},
		{"NEXTAUTH_URL=ftp://user:secretpw@app.example.com/"},
		{"NEXTAUTH_URL=http://user:secretpw@app.example.com/"},
		{"UPSTREAM_ORDERS=https://user:secretpw@api.example.com:99999/v1"},
		{"UPSTREAM_ORDERS=https://user:secretpw@api.example.com/v1?x=1"},
		{"CORS_ORIGINS=https://user:secretpw@app.example.com/x"},
		{"AUTH_OKTA_ID=x", "AUTH_OKTA_SECRET=y", "AUTH_OKTA_ISSUER=https://user:secretpw@idp.example.com:bad"},
		{"AUTH_OKTA_ID=x", "AUTH_OKTA_SECRET=y", "AUTH_OKTA_ISSUER=http://user:secretpw@idp.example.com"},
	} {
		_, ps := load(t, "", append([]string{"NODE_ENV=production"}, kv...)...)
		if ps == nil {
			t.Errorf("%v: accepted", kv)
			continue
		}
		msg := ps.Error()
		if strings.Contains(msg, "secretpw") {
			t.Errorf("%v: the password is in the error:\n%s", kv, msg)
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
