package config

import (
	"strings"
	"testing"
)

func warningFor(ws []Problem, v string) (Problem, bool) {
	for _, w := range ws {
		if w.Var == v {
			return w, true
		}
	}
	return Problem{}, false
}

func TestUnknownVariablesWarned(t *testing.T) {
	for _, c := range []struct {
		env      []string
		typo     string
		suggests string
	}{
		{[]string{"NEXTAUTH_ULR=http://localhost:3000"}, "NEXTAUTH_ULR", "NEXTAUTH_URL"},
		{[]string{"NEXTAUTH_SECERT=" + secret32}, "NEXTAUTH_SECERT", "NEXTAUTH_SECRET"},
		{[]string{"AUTH_SESSION_MAXAGE=60"}, "AUTH_SESSION_MAXAGE", "AUTH_SESSION_MAX_AGE"},
		{[]string{"AUTHBFF_DATADIR=/tmp/x"}, "AUTHBFF_DATADIR", "AUTHBFF_DATA_DIR"},
		{[]string{"AUTH_OKTA_ISSUER=https://example.okta.com", "AUTH_OKTA_ID=x", "AUTH_OKTA_SCOPES=openid"}, "AUTH_OKTA_SCOPES", "AUTH_OKTA_SCOPE"},
		{[]string{"COGNITO_CLIENT_ID=x", "COGNITO_ISSUER=https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC", "COGNITO_SCOEP=openid"}, "COGNITO_SCOEP", "COGNITO_SCOPE"},
	} {
		t.Run(c.typo, func(t *testing.T) {
			cfg, _ := load(t, "", c.env...)
			w, ok := warningFor(cfg.Warnings, c.typo)
			if !ok {
				t.Fatalf("no warning about %s: %v", c.typo, cfg.Warnings)
			}
			if !strings.Contains(w.String(), "did you mean "+c.suggests+"?") {
				t.Errorf("warning %q does not suggest %s", w, c.suggests)
			}
		})
	}
}

func TestUnknownVariablesQuiet(t *testing.T) {
	cfg := mustLoad(t, "NEXTAUTH_URL=http://localhost:3000", "AUTH_URL=http://localhost:3000", "NEXTAUTH_SECRET="+secret32,
		"AUTH_SECRET="+secret32, "AUTH_OKTA_ISSUER=https://example.okta.com", "AUTH_OKTA_ID=x", "AUTH_OKTA_SECRET_FILE="+writeSecretFile(t, "s"),
		"UPSTREAM_ORDERS=https://api.example.com", "AUTHBFF_DEV_IDP=0", "PORT=3000", "SOMETHING_ELSE=1", "NEXTAUTH_SECRET_PREVIOUS="+secret32)
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings about settings that are read: %v", cfg.Warnings)
	}
}

func TestUnknownVariableWithoutSuggestion(t *testing.T) {
	cfg := mustLoad(t, "AUTH_TRUST_HOST=true", "NEXTAUTH_URL_FILE=/x")
	w, ok := warningFor(cfg.Warnings, "AUTH_TRUST_HOST")
	if !ok || strings.Contains(w.Fix, "did you mean") {
		t.Errorf("AUTH_TRUST_HOST: %v", cfg.Warnings)
	}
	if w, _ := warningFor(cfg.Warnings, "NEXTAUTH_URL_FILE"); !strings.Contains(w.Fix, "only secrets are read from files") {
		t.Errorf("NEXTAUTH_URL_FILE: %v", cfg.Warnings)
	}
}

// A typo that leaves a provider incomplete: the problem says which
// variable looks like the intended one.
func TestTypoLeavesProviderIncomplete(t *testing.T) {
	_, ps := load(t, "", "COGNITO_CLIENT_ID=abc", "COGNITO_CLIENT_SECRET=s", "COGNITO_DOMIAN=myapp.auth.us-east-1.amazoncognito.com")
	p, ok := problemFor(ps, "COGNITO_ISSUER")
	if !ok {
		t.Fatalf("no problem on COGNITO_ISSUER: %v", ps)
	}
	if !strings.Contains(p.Message, "COGNITO_DOMIAN is set: did you mean COGNITO_DOMAIN?") {
		t.Errorf("problem %q does not point at COGNITO_DOMIAN", p)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"NEXTAUTH_ULR", "NEXTAUTH_URL", 1}, {"abc", "abc", 0}, {"", "ab", 2}, {"kitten", "sitting", 3}, {"COGNITO_DOMIAN", "COGNITO_DOMAIN", 1}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
