package oidc

import (
	"strings"
	"testing"
)

// TestDiagnoseClientNamesTheProvider: a generic provider's advice names its
// own variables and never Cognito's; Cognito keeps its own.
func TestDiagnoseClientNamesTheProvider(t *testing.T) {
	okta := ClientSettings{ProviderID: "okta", ProviderName: "Okta", CallbackURL: "https://app.example/api/auth/callback/okta"}
	tests := []struct {
		name string
		code string
		s    ClientSettings
		want []string
	}{
		{"okta wrong secret", "invalid_client", okta, []string{"Okta", "AUTH_OKTA_ID", "AUTH_OKTA_SECRET", "AUTH_OKTA_AUTH_STYLE", "client_secret_basic"}},
		{"okta unauthorized client", "unauthorized_client", okta, []string{"Okta", "authorization_code", okta.CallbackURL, "AUTH_OKTA_SECRET"}},
		{"okta invalid grant", "invalid_grant", okta, []string{"Sign in again", "clock", "twice", okta.CallbackURL}},
		{"okta invalid request", "invalid_request", okta, []string{"PKCE", "AUTH_OKTA_AUTH_STYLE", "log"}},
		{"okta unsupported grant", "unsupported_grant_type", okta, []string{"refresh_token", "Okta"}},
		{"okta invalid scope", "invalid_scope", okta, []string{"AUTH_OKTA_SCOPE", "openid"}},
		{"defaults from the id", "invalid_client", ClientSettings{ProviderID: "dex"}, []string{"dex", "AUTH_DEX_ID", "AUTH_DEX_SECRET", "AUTH_DEX_AUTH_STYLE"}},
		{"variables as configured", "invalid_client", ClientSettings{ProviderID: "hydra", SecretVar: "MY_HYDRA_SECRET"}, []string{"MY_HYDRA_SECRET", "AUTH_HYDRA_ID"}},
		{"cognito", "invalid_client", ClientSettings{ProviderID: "cognito", Cognito: true}, []string{"Cognito > App clients", "COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET"}},
		{"cognito v5 spelling", "invalid_client", ClientSettings{ProviderID: "cognito", Cognito: true, ClientIDVar: "AUTH_COGNITO_ID", SecretVar: "AUTH_COGNITO_SECRET"},
			[]string{"Cognito > App clients", "AUTH_COGNITO_ID", "AUTH_COGNITO_SECRET"}},
		{"cognito default callback", "redirect_mismatch", ClientSettings{Cognito: true}, []string{"<NEXTAUTH_URL>/api/auth/callback/cognito", "Allowed callback URLs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := DiagnoseClient(tt.code, tt.s)
			if !ok || d.Cause == "" || d.Fix == "" {
				t.Fatalf("DiagnoseClient(%q) = %+v, %v", tt.code, d, ok)
			}
			all := d.Cause + " " + d.Fix
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("diagnosis lacks %q: %s", w, all)
				}
			}
			if !tt.s.Cognito && strings.Contains(strings.ToLower(all), "cognito") {
				t.Errorf("Cognito advice for %s: %s", tt.s.ProviderID, all)
			}
		})
	}
	for _, code := range []string{"server_error", "redirect_mismatch"} {
		if d, ok := DiagnoseClient(code, okta); ok {
			t.Errorf("DiagnoseClient(%q) for okta = %+v; want unknown (redirect_mismatch is Cognito's)", code, d)
		}
	}
}
