package config

import (
	"strings"
	"testing"
)

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
