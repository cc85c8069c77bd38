package doctor_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	_ "github.com/authbff/authbff/bff" // fills bffhook
	"github.com/authbff/authbff/internal/bffhook"
	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/doctor"
	"github.com/authbff/authbff/internal/nextauth"
)

// TestDoctorFindsCognitoMisconfiguration runs `authbff doctor`'s checks
// against the Cognito-shaped dev IdP set up right and wrong in the ways
// COGNITO.md lists.
func TestDoctorFindsCognitoMisconfiguration(t *testing.T) {
	const appURL = "http://127.0.0.1:3999"
	cb := appURL + "/api/auth/callback/cognito"
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	defer srv.Close()
	idp, err := devidp.New(devidp.Options{BaseURL: srv.URL, Clients: []devidp.Client{
		{ID: "good", Secret: "s3cr+t", RedirectURIs: []string{cb}},
		{ID: "slash", Secret: "s3cr+t", RedirectURIs: []string{cb + "/"}},
		{ID: "nocode", Secret: "s3cr+t", RedirectURIs: []string{cb}, DisableCodeGrant: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = idp
	cases := []struct {
		name, client, secret string
		ok                   bool
		want                 []string
	}{
		{"all good", "good", "s3cr+t", true, []string{"ok   [cognito] discovery", "callback URL " + cb + " is accepted", "accepts the client id and secret"}},
		{"callback not registered", "slash", "s3cr+t", false, []string{"FAIL [cognito] callback URL " + cb + " is not registered"}},
		{"wrong secret", "good", "wrong", false, []string{"FAIL [cognito] token endpoint answered invalid_client", "COGNITO_CLIENT_SECRET"}},
		{"code grant off", "nocode", "s3cr+t", false, []string{"FAIL [cognito] token endpoint answered unauthorized_client", "Authorization code grant"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set, providers := doctorSettings(t, map[string]string{
				"COGNITO_CLIENT_ID": tc.client, "COGNITO_CLIENT_SECRET": tc.secret, "COGNITO_ISSUER": idp.Issuer(),
				"NEXTAUTH_URL": appURL, "NEXTAUTH_SECRET": strings.Repeat("k", 32),
			})
			var out bytes.Buffer
			if got := doctor.Run(context.Background(), set, providers, nil, &out); got != tc.ok {
				t.Fatalf("doctor ok = %v, want %v:\n%s", got, tc.ok, out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("doctor output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
	t.Run("unreachable issuer", func(t *testing.T) {
		set, providers := doctorSettings(t, map[string]string{
			"COGNITO_CLIENT_ID": "x", "COGNITO_ISSUER": "http://127.0.0.1:1/pool",
			"NEXTAUTH_URL": appURL, "NEXTAUTH_SECRET": strings.Repeat("k", 32),
		})
		var out bytes.Buffer
		if doctor.Run(context.Background(), set, providers, nil, &out) || !strings.Contains(out.String(), "FAIL [cognito] discovery") {
			t.Fatalf("unreachable issuer:\n%s", out.String())
		}
	})
}

// doctorSettings is what `authbff doctor` checks for env: the environment
// mapped to Options and validated as bff.New does.
func doctorSettings(t *testing.T, env map[string]string) (*nextauth.Settings, []nextauth.Provider) {
	t.Helper()
	cfg, err := config.Load(config.FromMap(env, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	o, err := bffhook.OptionsFromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	set, providers, err := bffhook.Resolve(o)
	if err != nil {
		t.Fatal(err)
	}
	return set, providers
}
