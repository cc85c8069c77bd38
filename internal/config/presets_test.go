package config

import (
	"slices"
	"testing"
)

func TestGitHubPresetSpellings(t *testing.T) {
	for _, env := range [][]string{
		{"AUTH_GITHUB_ID=i", "AUTH_GITHUB_SECRET=s"},
		{"GITHUB_ID=i", "GITHUB_SECRET=s"},
	} {
		c := mustLoad(t, append(env, "NEXTAUTH_SECRET="+secret32, "AUTH_GITHUB_ENTERPRISE_URL=https://ghe.example.com/")...)
		if len(c.Providers) != 1 {
			t.Fatalf("%v: %d providers", env, len(c.Providers))
		}
		p := c.Providers[0]
		if p.ID != "github" || !p.GitHub || p.Type != "oauth" || p.ClientID != "i" || p.ClientSecret != "s" ||
			p.GitHubEnterpriseURL != "https://ghe.example.com" || p.Scopes != nil || p.Issuer != "" {
			t.Errorf("%v: %+v", env, p)
		}
	}
	_, ps := load(t, "", "NEXTAUTH_SECRET="+secret32, "AUTH_GITHUB_ID=i")
	wantProblem(t, ps, "AUTH_GITHUB_SECRET", "is not set")
	_, ps = load(t, "", "NEXTAUTH_SECRET="+secret32, "AUTH_GITHUB_ID=i", "AUTH_GITHUB_SECRET=s", "AUTH_GITHUB_ENTERPRISE_URL=https://ghe.example.com/x")
	wantProblem(t, ps, "AUTH_GITHUB_ENTERPRISE_URL", "not a server URL")
}

func TestGooglePreset(t *testing.T) {
	c := mustLoad(t, "NEXTAUTH_SECRET="+secret32, "GOOGLE_CLIENT_ID=g", "GOOGLE_CLIENT_SECRET=s", "AUTH_GOOGLE_HOSTED_DOMAIN=Example.com")
	p := c.Providers[0]
	if p.ID != "google" || !p.Google || p.Issuer != "https://accounts.google.com" || p.HostedDomain != "example.com" ||
		!slices.Contains(p.Scopes, "openid") {
		t.Errorf("%+v", p)
	}
	c = mustLoad(t, "NEXTAUTH_SECRET="+secret32, "AUTH_GOOGLE_ID=g", "AUTH_GOOGLE_SECRET=s", "AUTH_GOOGLE_ISSUER=http://127.0.0.1:9/")
	if c.Providers[0].Issuer != "http://127.0.0.1:9/" {
		t.Errorf("AUTH_GOOGLE_ISSUER not used: %q", c.Providers[0].Issuer)
	}
}

func TestEntraPreset(t *testing.T) {
	_, ps := load(t, "", "NEXTAUTH_SECRET="+secret32, "AUTH_MICROSOFT_ENTRA_ID_ID=e", "AUTH_MICROSOFT_ENTRA_ID_SECRET=s")
	wantProblem(t, ps, "AUTH_MICROSOFT_ENTRA_ID_TENANTS", "multi-tenant")
	c := mustLoad(t, "NEXTAUTH_SECRET="+secret32, "AUTH_MICROSOFT_ENTRA_ID_ID=e", "AUTH_MICROSOFT_ENTRA_ID_SECRET=s",
		"AUTH_MICROSOFT_ENTRA_ID_TENANTS=a, b")
	p := c.Providers[0]
	if p.ID != "microsoft-entra-id" || p.Issuer != "https://login.microsoftonline.com/common/v2.0" || !slices.Equal(p.Tenants, []string{"a", "b"}) {
		t.Errorf("%+v", p)
	}
	c = mustLoad(t, "NEXTAUTH_SECRET="+secret32, "AUTH_MICROSOFT_ENTRA_ID_ID=e",
		"AUTH_MICROSOFT_ENTRA_ID_ISSUER=https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0")
	if len(c.Providers[0].Tenants) != 0 {
		t.Errorf("single tenant: %+v", c.Providers[0])
	}
}

func TestOAuthType(t *testing.T) {
	base := []string{"NEXTAUTH_SECRET=" + secret32, "AUTH_ACME_TYPE=oauth", "AUTH_ACME_ID=i", "AUTH_ACME_SECRET=s",
		"AUTH_ACME_AUTHORIZATION_URL=https://acme.example/authorize", "AUTH_ACME_TOKEN_URL=https://acme.example/token",
		"AUTH_ACME_USERINFO_URL=https://acme.example/me", "AUTH_ACME_PROFILE_MAP=sub=id name=name|login",
		"AUTH_ACME_SCOPE=read", "AUTH_ACME_AUTHORIZATION_PARAMS=audience=https://api.example.com"}
	c := mustLoad(t, base...)
	p := c.Providers[0]
	if p.ID != "acme" || p.Type != "oauth" || p.Issuer != "" || p.ProfileMap["name"] != "name|login" ||
		!slices.Equal(p.Scopes, []string{"read"}) || p.AuthorizationParams.Get("audience") != "https://api.example.com" {
		t.Errorf("%+v", p)
	}
	_, ps := load(t, "", "NEXTAUTH_SECRET="+secret32, "AUTH_ACME_TYPE=oauth", "AUTH_ACME_ID=i")
	wantProblem(t, ps, "AUTH_ACME_TOKEN_URL", "is not set")
	_, ps = load(t, "", append(base, "AUTH_ACME_TYPE=saml")...)
	wantProblem(t, ps, "AUTH_ACME_TYPE", "not a provider type")
	_, ps = load(t, "", "NEXTAUTH_SECRET="+secret32, "AUTH_OKTA_ISSUER=https://okta.example", "AUTH_OKTA_ID=i",
		"AUTH_OKTA_AUTHORIZATION_PARAMS=prompt=login&nonce=y")
	wantProblem(t, ps, "AUTH_OKTA_AUTHORIZATION_PARAMS", "sets nonce")
}
