package bff_test

import (
	"strings"
	"testing"
)

// TestAccessPolicy checks the sign-in policy against the dev IdP's demo
// users: ada is in group "admins", grace in none; both have example.com
// addresses.
func TestAccessPolicy(t *testing.T) {
	tests := []struct {
		name      string
		env       []string
		user      string
		allowed   bool
		wantGroup bool
	}{
		{"group member", []string{"AUTH_ALLOWED_GROUPS", "admins"}, "ada", true, false},
		{"not a group member", []string{"AUTH_ALLOWED_GROUPS", "admins,staff"}, "grace", false, false},
		{"allowed domain", []string{"AUTH_ALLOWED_EMAIL_DOMAINS", "example.org,@Example.com"}, "grace", true, false},
		{"other domain", []string{"AUTH_ALLOWED_EMAIL_DOMAINS", "example.org"}, "ada", false, false},
		{"session groups", []string{"AUTH_SESSION_GROUPS", "1"}, "ada", true, true},
		{"session groups off by default", nil, "ada", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := startApp(t, bffEnv(t, tc.env...))
			b := newBrowser(t)
			authURL := b.StartSignIn(app.URL, "cognito", app.URL+"/protected")
			cb := b.Get(location(t, b.DevLogin(b.Get(authURL), tc.user)))
			loc := location(t, cb)
			s := b.Session(app.URL)
			if !tc.allowed {
				if !strings.HasPrefix(loc, app.URL+"/api/auth/error?error=AccessDenied") || s != nil {
					t.Fatalf("refused user: redirected to %q, session %v", loc, s)
				}
				return
			}
			if loc != app.URL+"/protected" || s == nil {
				t.Fatalf("allowed user: redirected to %q, session %v", loc, s)
			}
			groups, has := s["user"].(map[string]any)["groups"]
			if has != tc.wantGroup {
				t.Fatalf("user.groups present = %v, want %v (%v)", has, tc.wantGroup, s)
			}
			if has {
				if g, _ := groups.([]any); len(g) != 1 || g[0] != "admins" {
					t.Fatalf("user.groups = %v", groups)
				}
			}
		})
	}
}
