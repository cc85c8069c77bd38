package config

import (
	"reflect"
	"testing"
)

func TestIDTokenAlgsAndLogoutHint(t *testing.T) {
	base := []string{"NEXTAUTH_SECRET=" + secret32, "AUTH_OKTA_ISSUER=https://dev-1.okta.com", "AUTH_OKTA_ID=x"}
	tests := []struct {
		name     string
		env      []string
		wantAlgs []string
		wantHint bool
	}{
		{"unset: the provider's discovery decides", nil, nil, false},
		{"one alg", []string{"AUTH_OKTA_ID_TOKEN_ALGS=ES256"}, []string{"ES256"}, false},
		{"list in any case, commas or spaces, deduplicated", []string{"AUTH_OKTA_ID_TOKEN_ALGS=es256, eddsa RS256,ES256"},
			[]string{"ES256", "EdDSA", "RS256"}, false},
		{"logout hint", []string{"AUTH_OKTA_LOGOUT_ID_TOKEN_HINT=1"}, nil, true},
		{"logout hint off", []string{"AUTH_OKTA_LOGOUT_ID_TOKEN_HINT=no"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, append(base, tt.env...)...)
			p := c.Providers[0]
			if !reflect.DeepEqual(p.IDTokenAlgs, tt.wantAlgs) || p.LogoutIDTokenHint != tt.wantHint {
				t.Fatalf("IDTokenAlgs %v, LogoutIDTokenHint %v; want %v, %v", p.IDTokenAlgs, p.LogoutIDTokenHint, tt.wantAlgs, tt.wantHint)
			}
		})
	}
}

func TestIDTokenAlgsProblems(t *testing.T) {
	base := []string{"NEXTAUTH_SECRET=" + secret32, "AUTH_DEX_ISSUER=http://127.0.0.1:5556/dex", "AUTH_DEX_ID=x"}
	tests := []struct {
		name, env, on, substr string
	}{
		{"none", "AUTH_DEX_ID_TOKEN_ALGS=RS256,none", "AUTH_DEX_ID_TOKEN_ALGS", "unsigned"},
		{"HS256", "AUTH_DEX_ID_TOKEN_ALGS=HS256", "AUTH_DEX_ID_TOKEN_ALGS", "symmetric"},
		{"unknown", "AUTH_DEX_ID_TOKEN_ALGS=ES257", "AUTH_DEX_ID_TOKEN_ALGS", "not a known"},
		{"hint not a boolean", "AUTH_DEX_LOGOUT_ID_TOKEN_HINT=maybe", "AUTH_DEX_LOGOUT_ID_TOKEN_HINT", "not a boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ps := load(t, "", append(base, tt.env)...)
			wantProblem(t, ps, tt.on, tt.substr)
			for _, a := range c.Providers[0].IDTokenAlgs {
				if a == "none" || a[:2] == "HS" {
					t.Fatalf("refused alg %q kept in %v", a, c.Providers[0].IDTokenAlgs)
				}
			}
		})
	}
}

func TestProviderVars(t *testing.T) {
	c := mustLoad(t, "NEXTAUTH_SECRET="+secret32, "COGNITO_CLIENT_ID=cid", "COGNITO_ISSUER="+poolIssuer,
		"AUTH_OKTA_ISSUER=https://dev-1.okta.com", "AUTH_OKTA_ID=x")
	want := map[string]ProviderVars{
		"cognito": {Issuer: "COGNITO_ISSUER", ClientID: "COGNITO_CLIENT_ID", Secret: "COGNITO_CLIENT_SECRET",
			AuthStyle: "COGNITO_AUTH_STYLE", Scope: "COGNITO_SCOPE", UserInfo: "COGNITO_USERINFO"},
		"okta": {Issuer: "AUTH_OKTA_ISSUER", ClientID: "AUTH_OKTA_ID", Secret: "AUTH_OKTA_SECRET", AuthStyle: "AUTH_OKTA_AUTH_STYLE",
			Scope: "AUTH_OKTA_SCOPE", UserInfo: "AUTH_OKTA_USERINFO", IDTokenAlgs: "AUTH_OKTA_ID_TOKEN_ALGS",
			LogoutIDTokenHint: "AUTH_OKTA_LOGOUT_ID_TOKEN_HINT"},
	}
	for _, p := range c.Providers {
		if got := p.Vars(); got != want[p.ID] {
			t.Errorf("%s Vars() = %+v, want %+v", p.ID, got, want[p.ID])
		}
	}
}
