package nextauth

import (
	"net/url"
	"testing"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/oidc"
)

func TestProviderType(t *testing.T) {
	oidcP, oauthP := Provider{ID: "okta"}, Provider{ID: "github", OAuth2: &oidc.OAuth2{}}
	for _, tc := range []struct {
		p    Provider
		f    auth.Flavor
		want string
	}{{oidcP, auth.FlavorV4, "oauth"}, {oidcP, auth.FlavorV5, "oidc"}, {oauthP, auth.FlavorV4, "oauth"}, {oauthP, auth.FlavorV5, "oauth"}} {
		if got := tc.p.Type(tc.f); got != tc.want {
			t.Errorf("%s in %v: %q, want %q", tc.p.ID, tc.f, got, tc.want)
		}
	}
}

func TestAuthParamsMergedUnderTheClients(t *testing.T) {
	def := url.Values{"audience": {"https://api"}, "prompt": {"consent"}}
	got := authParams(def, url.Values{"prompt": {"login"}, "login_hint": {"a@b"}})
	if got.Get("audience") != "https://api" || got.Get("prompt") != "login" || got.Get("login_hint") != "a@b" {
		t.Fatalf("%v", got)
	}
	if def.Get("prompt") != "consent" {
		t.Fatal("the defaults were changed")
	}
	if q := (url.Values{"x": {"1"}}); authParams(nil, q).Get("x") != "1" {
		t.Fatal("no defaults: the query is not passed")
	}
}

func TestProviderVarsOfHyphenatedID(t *testing.T) {
	id, secret, _, scope := providerVars(Provider{ID: "microsoft-entra-id"})
	if id != "AUTH_MICROSOFT_ENTRA_ID_ID" || secret != "AUTH_MICROSOFT_ENTRA_ID_SECRET" || scope != "AUTH_MICROSOFT_ENTRA_ID_SCOPE" {
		t.Fatal(id, secret, scope)
	}
}
