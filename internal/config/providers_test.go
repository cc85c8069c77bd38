package config

import (
	"reflect"
	"testing"
)

const (
	poolIssuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
	hostedUI   = "myapp.auth.eu-west-1.amazoncognito.com"
)

func TestCognitoSpellings(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want Provider
	}{
		{"v4 issuer with secret", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_CLIENT_SECRET=cs", "COGNITO_ISSUER=" + poolIssuer},
			Provider{Issuer: poolIssuer, ClientID: "cid", ClientSecret: "cs", AuthStyle: AuthStylePost}},
		{"v4 public client", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_ISSUER=" + poolIssuer},
			Provider{Issuer: poolIssuer, ClientID: "cid", AuthStyle: AuthStyleNone}},
		{"v3 domain plus region and pool", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_CLIENT_SECRET=cs", "COGNITO_DOMAIN=" + hostedUI + "/",
			"COGNITO_REGION=eu-west-1", "COGNITO_USER_POOL_ID=eu-west-1_AbC123"},
			Provider{Issuer: poolIssuer, ClientID: "cid", ClientSecret: "cs", CognitoDomain: "https://" + hostedUI, AuthStyle: AuthStylePost}},
		{"region derived from pool id", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_DOMAIN=https://auth.example.com", "COGNITO_USER_POOL_ID=eu-west-1_AbC123"},
			Provider{Issuer: poolIssuer, ClientID: "cid", CognitoDomain: "https://auth.example.com", AuthStyle: AuthStyleNone}},
		{"v5 AUTH_COGNITO_*", []string{"AUTH_COGNITO_ID=cid", "AUTH_COGNITO_SECRET=cs", "AUTH_COGNITO_ISSUER=" + poolIssuer},
			Provider{Issuer: poolIssuer, ClientID: "cid", ClientSecret: "cs", AuthStyle: AuthStylePost}},
		{"v5 with domain, basic auth, scopes, userinfo", []string{"AUTH_COGNITO_ID=cid", "AUTH_COGNITO_SECRET=cs", "AUTH_COGNITO_ISSUER=" + poolIssuer,
			"COGNITO_DOMAIN=" + hostedUI, "COGNITO_AUTH_STYLE=client_secret_basic", "COGNITO_SCOPE=openid email", "COGNITO_USERINFO=1"},
			Provider{Issuer: poolIssuer, ClientID: "cid", ClientSecret: "cs", CognitoDomain: "https://" + hostedUI,
				AuthStyle: AuthStyleBasic, Scopes: []string{"openid", "email"}, UserInfo: true}},
		{"both spellings agreeing", []string{"COGNITO_CLIENT_ID=cid", "AUTH_COGNITO_ID=cid", "COGNITO_ISSUER=" + poolIssuer},
			Provider{Issuer: poolIssuer, ClientID: "cid", AuthStyle: AuthStyleNone}},
		{"v3 domain alone (2021 tutorial): issuer learned", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_CLIENT_SECRET=cs", "COGNITO_DOMAIN=" + hostedUI},
			Provider{ClientID: "cid", ClientSecret: "cs", CognitoDomain: "https://" + hostedUI, LearnIssuer: true, AuthStyle: AuthStylePost}},
		{"v3 domain alone with https:// and slash", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_CLIENT_SECRET=cs", "COGNITO_DOMAIN=https://" + hostedUI + "/"},
			Provider{ClientID: "cid", ClientSecret: "cs", CognitoDomain: "https://" + hostedUI, LearnIssuer: true, AuthStyle: AuthStylePost}},
		{"v3 loopback domain with scheme (tests)", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_CLIENT_SECRET=cs", "COGNITO_DOMAIN=http://127.0.0.1:9777"},
			Provider{ClientID: "cid", ClientSecret: "cs", CognitoDomain: "http://127.0.0.1:9777", LearnIssuer: true, AuthStyle: AuthStylePost}},
		{"loopback http issuer (dev)", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_ISSUER=http://localhost:9229/local_pool"},
			Provider{Issuer: "http://localhost:9229/local_pool", ClientID: "cid", AuthStyle: AuthStyleNone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, append(tt.env, "NEXTAUTH_SECRET="+secret32)...)
			if c.DevIdP || len(c.Providers) != 1 {
				t.Fatalf("DevIdP %v, %d providers; want one provider", c.DevIdP, len(c.Providers))
			}
			want := tt.want
			want.ID, want.Name, want.Cognito = "cognito", "Cognito", true
			if want.Scopes == nil {
				want.Scopes = []string{"openid", "profile", "email"}
			}
			if got := c.Providers[0]; !reflect.DeepEqual(got, want) {
				t.Errorf("provider =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestCognitoProblems(t *testing.T) {
	tests := []struct {
		name   string
		env    []string
		on     string
		substr string
	}{
		{"client id only", []string{"COGNITO_CLIENT_ID=cid"}, "COGNITO_ISSUER", "is not set"},
		{"domain off loopback over http", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_DOMAIN=http://" + hostedUI}, "COGNITO_DOMAIN", "not loopback"},
		{"domain and region without pool", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_DOMAIN=" + hostedUI, "COGNITO_REGION=eu-west-1"}, "COGNITO_USER_POOL_ID", "is not set"},
		{"no client id", []string{"COGNITO_ISSUER=" + poolIssuer}, "COGNITO_CLIENT_ID", "COGNITO_ISSUER"},
		{"no v5 client id", []string{"AUTH_COGNITO_SECRET=cs", "AUTH_COGNITO_ISSUER=" + poolIssuer}, "COGNITO_CLIENT_ID", "AUTH_COGNITO_SECRET"},
		{"spellings conflict", []string{"COGNITO_CLIENT_ID=a", "AUTH_COGNITO_ID=b", "COGNITO_ISSUER=" + poolIssuer}, "AUTH_COGNITO_ID", "conflicts with COGNITO_CLIENT_ID"},
		{"issuers conflict", []string{"COGNITO_CLIENT_ID=a", "COGNITO_ISSUER=" + poolIssuer, "AUTH_COGNITO_ISSUER=https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X"},
			"AUTH_COGNITO_ISSUER", "conflicts"},
		{"region mismatch", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_REGION=us-east-1", "COGNITO_USER_POOL_ID=eu-west-1_AbC123"}, "COGNITO_REGION", "differs"},
		{"bad pool id", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_REGION=eu-west-1", "COGNITO_USER_POOL_ID=AbC123"}, "COGNITO_USER_POOL_ID", "not a user pool id"},
		{"region without pool", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_REGION=eu-west-1"}, "COGNITO_USER_POOL_ID", "is not set"},
		{"pool does not match issuer", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_ISSUER=" + poolIssuer, "COGNITO_USER_POOL_ID=eu-west-1_Other"}, "COGNITO_USER_POOL_ID", "does not match"},
		{"http issuer off loopback", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_ISSUER=http://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"}, "COGNITO_ISSUER", "not loopback"},
		{"v5 issuer not a URL", []string{"AUTH_COGNITO_ID=cid", "AUTH_COGNITO_ISSUER=eu-west-1_AbC123"}, "AUTH_COGNITO_ISSUER", "not an absolute"},
		{"domain with path", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_ISSUER=" + poolIssuer, "COGNITO_DOMAIN=" + hostedUI + "/oauth2"}, "COGNITO_DOMAIN", "has a path"},
		{"basic style without secret", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_ISSUER=" + poolIssuer, "COGNITO_AUTH_STYLE=client_secret_basic"}, "COGNITO_AUTH_STYLE", "COGNITO_CLIENT_SECRET is not set"},
		{"none style with secret", []string{"AUTH_COGNITO_ID=cid", "AUTH_COGNITO_SECRET=s", "AUTH_COGNITO_ISSUER=" + poolIssuer, "COGNITO_AUTH_STYLE=none"}, "COGNITO_AUTH_STYLE", "AUTH_COGNITO_SECRET is set"},
		{"unknown style", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_ISSUER=" + poolIssuer, "COGNITO_AUTH_STYLE=jwt"}, "COGNITO_AUTH_STYLE", "not a known auth style"},
		{"scope without openid", []string{"COGNITO_CLIENT_ID=cid", "COGNITO_ISSUER=" + poolIssuer, "COGNITO_SCOPE=email profile"}, "COGNITO_SCOPE", "openid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ps := load(t, "", append(tt.env, "NEXTAUTH_SECRET="+secret32)...)
			wantProblem(t, ps, tt.on, tt.substr)
			if c.DevIdP {
				t.Error("DevIdP is true although Cognito variables are set")
			}
		})
	}
}

func TestGenericProviders(t *testing.T) {
	c := mustLoad(t,
		"NEXTAUTH_SECRET="+secret32,
		"COGNITO_CLIENT_ID=cid", "COGNITO_ISSUER="+poolIssuer,
		"AUTH_OKTA_ISSUER=https://dev-1.okta.com/oauth2/default", "AUTH_OKTA_ID=okta-client", "AUTH_OKTA_SECRET=okta-secret",
		"AUTH_KEYCLOAK2_ISSUER=http://127.0.0.1:8080/realms/dev", "AUTH_KEYCLOAK2_ID=kc", "AUTH_KEYCLOAK2_NAME=Company SSO",
		"AUTH_KEYCLOAK2_SCOPE=openid groups", "AUTH_KEYCLOAK2_USERINFO=1",
		"AUTH_SESSION_GROUPS=1", // an AUTH_* variable that names no provider
	)
	want := []Provider{
		{ID: "cognito", Name: "Cognito", Issuer: poolIssuer, ClientID: "cid", Cognito: true,
			Scopes: []string{"openid", "profile", "email"}, AuthStyle: AuthStyleNone},
		{ID: "keycloak2", Name: "Company SSO", Issuer: "http://127.0.0.1:8080/realms/dev", ClientID: "kc",
			Scopes: []string{"openid", "groups"}, AuthStyle: AuthStyleNone, UserInfo: true},
		{ID: "okta", Name: "Okta", Issuer: "https://dev-1.okta.com/oauth2/default", ClientID: "okta-client", ClientSecret: "okta-secret",
			Scopes: []string{"openid", "profile", "email"}, AuthStyle: AuthStylePost},
	}
	if !reflect.DeepEqual(c.Providers, want) {
		t.Errorf("providers =\n%+v\nwant\n%+v", c.Providers, want)
	}
	if c.DevIdP {
		t.Error("DevIdP is true with providers configured")
	}
}

func TestGenericProviderIssuerKeptExactly(t *testing.T) {
	// Auth0's issuer ends in a slash; it must match the ID token's iss byte for byte.
	c := mustLoad(t, "NEXTAUTH_SECRET="+secret32, "AUTH_AUTH0_ISSUER=https://tenant.eu.auth0.com/", "AUTH_AUTH0_ID=x")
	if got := c.Providers[0].Issuer; got != "https://tenant.eu.auth0.com/" {
		t.Errorf("Issuer = %q, want it unchanged", got)
	}
}

func TestGenericProviderProblems(t *testing.T) {
	tests := []struct {
		name   string
		env    []string
		on     string
		substr string
	}{
		{"missing client id", []string{"AUTH_OKTA_ISSUER=https://dev.okta.com"}, "AUTH_OKTA_ID", "is not set"},
		{"missing issuer (Auth.js built-in style)", []string{"AUTH_OKTA_ID=g", "AUTH_OKTA_SECRET=s"}, "AUTH_OKTA_ISSUER", "is not set"},
		{"http off loopback", []string{"AUTH_OKTA_ISSUER=http://dev.okta.com", "AUTH_OKTA_ID=x"}, "AUTH_OKTA_ISSUER", "not loopback"},
		{"relative issuer", []string{"AUTH_OKTA_ISSUER=dev.okta.com", "AUTH_OKTA_ID=x"}, "AUTH_OKTA_ISSUER", "not an absolute"},
		{"issuer with query", []string{"AUTH_OKTA_ISSUER=https://dev.okta.com?x=1", "AUTH_OKTA_ID=x"}, "AUTH_OKTA_ISSUER", "query"},
		{"bad provider id", []string{"AUTH_MY_IDP_ISSUER=https://idp.example.com", "AUTH_MY_IDP_ID=x"}, "AUTH_MY_IDP_ISSUER", "A-Z and 0-9"},
		{"secret required outside development", []string{"AUTH_OKTA_ISSUER=https://dev.okta.com", "AUTH_OKTA_ID=x", "NEXTAUTH_URL=https://app.example.com"}, "NEXTAUTH_SECRET", "is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if tt.on != "NEXTAUTH_SECRET" {
				env = append(env, "NEXTAUTH_SECRET="+secret32)
			}
			_, ps := load(t, "", env...)
			wantProblem(t, ps, tt.on, tt.substr)
		})
	}
}
