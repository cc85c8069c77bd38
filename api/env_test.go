package api

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/config"
)

// TestStartupConfigProblems: the binary reports every problem of its
// environment at once, each named by variable.
func TestStartupConfigProblems(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		vars []string
	}{
		{"several problems at once", map[string]string{
			"COGNITO_CLIENT_ID": "x", "COGNITO_ISSUER": "http://idp.example.com/pool",
			"NEXTAUTH_URL": "ftp://x", "AUTH_SESSION_MAX_AGE": "soon",
		}, []string{"NEXTAUTH_SECRET", "COGNITO_ISSUER", "NEXTAUTH_URL", "AUTH_SESSION_MAX_AGE"}},
		{"dev IdP behind a public https URL", map[string]string{"NEXTAUTH_URL": "https://app.example.com"}, []string{"NEXTAUTH_URL"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Options{Source: envSource(tc.env, t.TempDir())})
			var probs *config.Problems
			if !errors.As(err, &probs) {
				t.Fatalf("err = %v, want *config.Problems", err)
			}
			for _, v := range tc.vars {
				if !strings.Contains(err.Error(), v+":") {
					t.Errorf("problems do not name %s:\n%v", v, err)
				}
			}
		})
	}
	_ = http.StatusOK
}
