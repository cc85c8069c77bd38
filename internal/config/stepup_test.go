package config

import (
	"slices"
	"testing"
	"time"
)

func TestUpstreamStepUpVariables(t *testing.T) {
	c := mustLoad(t, "NEXTAUTH_SECRET="+secret32, "UPSTREAM_SECURE=https://api.example.com", "UPSTREAM_SECURE_ACR=urn:mfa,urn:hwk",
		"UPSTREAM_SECURE_MAX_AGE=300", "UPSTREAM_OTHER_ACR=https://other.example.com")
	su := c.UpstreamStepUp["secure"]
	if !slices.Equal(su.ACR, []string{"urn:mfa", "urn:hwk"}) || su.MaxAge != 300*time.Second {
		t.Fatalf("%+v", c.UpstreamStepUp)
	}
	// UPSTREAM_OTHER is not set: UPSTREAM_OTHER_ACR is an upstream of its own.
	if c.Upstreams["other_acr"] == nil || c.Upstreams["secure_acr"] != nil || c.Upstreams["secure_max_age"] != nil {
		t.Fatalf("upstreams %v", c.Upstreams)
	}
	_, ps := load(t, "", "NEXTAUTH_SECRET="+secret32, "UPSTREAM_SECURE=https://api.example.com", "UPSTREAM_SECURE_MAX_AGE=soon")
	wantProblem(t, ps, "UPSTREAM_SECURE_MAX_AGE", "seconds")
}

func TestCookieVariables(t *testing.T) {
	c := mustLoad(t, "NEXTAUTH_SECRET="+secret32, "AUTH_COOKIE_SAMESITE=Strict", "AUTH_COOKIE_PREFIX=__Host-Http-")
	if c.CookieSameSite != "strict" || c.CookiePrefix != "__Host-Http-" {
		t.Fatalf("%q %q", c.CookieSameSite, c.CookiePrefix)
	}
	_, ps := load(t, "", "NEXTAUTH_SECRET="+secret32, "AUTH_COOKIE_SAMESITE=none", "AUTH_COOKIE_PREFIX=__Secure-")
	wantProblem(t, ps, "AUTH_COOKIE_SAMESITE", "not lax or strict")
	wantProblem(t, ps, "AUTH_COOKIE_PREFIX", "not __Host-Http-")
}
