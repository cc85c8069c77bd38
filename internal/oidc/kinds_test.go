package oidc

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseProfileMap(t *testing.T) {
	m, err := ParseProfileMap("sub=id name=name|login, email=email image=avatar_url")
	if err != nil || len(m["name"]) != 2 || m["name"][1] != "login" || m["sub"][0] != "id" {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range []string{"name=name", "sub=", "sub=id sub=x", "sub=id color=x", "sub=id|", "sub"} {
		if _, err := ParseProfileMap(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestProfileString(t *testing.T) {
	var raw map[string]any
	d := json.NewDecoder(strings.NewReader(`{"id":12345678901234567,"login":"octo","name":null,"data":{"uid":"u1"},"ok":true}`))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	for keys, want := range map[string]string{"id": "12345678901234567", "name|login": "octo", "data.uid": "u1",
		"ok": "true", "missing|data.none": "", "login.x": ""} {
		if got := profileString(raw, strings.Split(keys, "|")); got != want {
			t.Errorf("%s = %q, want %q", keys, got, want)
		}
	}
}

func TestIssuerRules(t *testing.T) {
	mk := func(cfg Config) *Provider {
		cfg.ID, cfg.ClientID, cfg.RedirectURL = "x", "c", "http://localhost:3000/cb"
		p, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	g := mk(Config{Issuer: "https://accounts.google.com", Google: true})
	other := mk(Config{Issuer: "https://accounts.google.com"})
	for iss, want := range map[string]bool{"https://accounts.google.com": true, "accounts.google.com": true,
		"http://accounts.google.com": false, "accounts.google.com/": false, "evil.accounts.google.com": false} {
		if got := g.issuerOK(&Claims{Issuer: iss}); got != want {
			t.Errorf("google %q: %v, want %v", iss, got, want)
		}
		if other.issuerOK(&Claims{Issuer: iss}) != (iss == "https://accounts.google.com") {
			t.Errorf("non-google %q accepted", iss)
		}
	}
	e := mk(Config{Issuer: "https://login.microsoftonline.com/common/v2.0", Tenants: []string{"a"}})
	for tmpl, want := range map[string]bool{"https://login.microsoftonline.com/{tenantid}/v2.0": true,
		"https://evil.example/{tenantid}/v2.0": false, "https://login.microsoftonline.com/{tenantid}/v2.0/x": false,
		"https://login.microsoftonline.com/common/v2.0": false} {
		if got := e.multiTenant(tmpl); got != want {
			t.Errorf("template %q: %v, want %v", tmpl, got, want)
		}
	}
	if mk(Config{Issuer: "https://login.microsoftonline.com/common/v2.0"}).multiTenant("https://login.microsoftonline.com/{tenantid}/v2.0") {
		t.Error("a template is accepted without Tenants")
	}
}
