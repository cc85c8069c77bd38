package bff_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/authbff/authbff/bff"
)

// TestProviderKindsNamedByField: the provider kinds' problems are reported
// by field path, never by variable, every one at once.
func TestProviderKindsNamedByField(t *testing.T) {
	_, err := newBFF(bff.Options{Providers: []bff.Provider{
		{ID: "acme", Type: bff.ProviderOAuth, ClientID: "x", ProfileMap: map[string]string{"name": "login"}, TokenURL: "ftp://x"},
		{GitHub: true, ClientID: "x", ClientSecret: "y", Type: bff.ProviderOIDC},
		{Apple: true, ClientID: "com.example.web", ApplePrivateKey: "nope"},
		{ID: "microsoft-entra-id", Issuer: "https://login.microsoftonline.com/organizations/v2.0", ClientID: "x"},
		{ID: "okta", Issuer: "https://okta.example", ClientID: "x", AuthorizationParams: url.Values{"nonce": {"n"}}, ProfileMap: map[string]string{"sub": "id"}},
	}})
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		"Providers[0].AuthorizationURL is empty", "Providers[0].TokenURL", "Providers[0].UserinfoURL is empty", "Providers[0].ProfileMap",
		"Providers[1].Type", "Providers[2].AppleTeamID is empty", "Providers[2].ApplePrivateKey",
		"Providers[3].Tenants is empty", "Providers[4].AuthorizationParams", "Providers[4].ProfileMap is set, but Type is not oauth",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "AUTH_") {
		t.Errorf("a variable is named:\n%s", msg)
	}
}

// TestProviderPresetsByHand: a Go program's GitHub, Google and Entra
// providers start with their defaults.
func TestProviderPresetsByHand(t *testing.T) {
	b, err := newBFF(bff.Options{Providers: []bff.Provider{
		{GitHub: true, ClientID: "x", ClientSecret: "y"},
		{Google: true, ClientID: "g", ClientSecret: "s", HostedDomain: "example.com"},
		{ID: "microsoft-entra-id", Issuer: "https://login.microsoftonline.com/common/v2.0", ClientID: "e", ClientSecret: "s", Tenants: []string{"t1"}},
	}})
	if err != nil || b == nil {
		t.Fatal(err)
	}
}
