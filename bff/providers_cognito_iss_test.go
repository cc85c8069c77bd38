package bff_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newCognitoOP is a Cognito-shaped OP on loopback: the hosted UI's
// /oauth2/authorize and /oauth2/token on the domain, the user pool's
// issuer <domain>/us-east-1_heldout, and RFC 9207's iss in every
// authorization response.
func newCognitoOP(t *testing.T) *provOP {
	op := newProvOP(t, func(op *provOP) {
		op.IssuerPath, op.AuthPath, op.TokenPath = "/us-east-1_heldout", "/oauth2/authorize", "/oauth2/token"
	})
	op.AuthIss = op.Issuer()
	return op
}

func cognitoUser(iss string) func(string) map[string]any {
	return func(nonce string) map[string]any {
		return idClaims(iss, "c-sub-1", "tutorialclient", nonce,
			map[string]any{"token_use": "id", "email": "ada@example.com", "email_verified": true, "cognito:username": "ada"})
	}
}

// TestCognitoLearnsIssuerFromIssParameter: the tutorial's three variables
// (COGNITO_CLIENT_ID, COGNITO_CLIENT_SECRET, COGNITO_DOMAIN) on a
// Cognito-shaped OP that sends iss in its authorization responses: the
// first sign-in succeeds, the learned issuer is logged and pinned, and an
// ID token naming another pool is then refused.
func TestCognitoLearnsIssuerFromIssParameter(t *testing.T) {
	op := newCognitoOP(t)
	op.setClaims(cognitoUser(op.Issuer()))
	dataDir := t.TempDir()
	app := startProv(t, map[string]string{"COGNITO_CLIENT_ID": "tutorialclient", "COGNITO_CLIENT_SECRET": "tutsecret",
		"COGNITO_DOMAIN": op.Base(), "AUTHBFF_DATA_DIR": dataDir})
	b := newProvBrowser(t)
	if loc := b.signIn(app, "cognito", nil); loc != app.URL+"/account" {
		t.Fatalf("first sign-in: callback went to %q", loc)
	}
	if user := b.sessionUser(app); user["email"] != "ada@example.com" {
		t.Fatalf("session user = %v", user)
	}
	if logs := app.Logs.String(); !strings.Contains(logs, "issuer learned") || !strings.Contains(logs, op.Issuer()) {
		t.Errorf("the learned issuer is not logged:\n%s", logs)
	}
	pin, err := os.ReadFile(filepath.Join(dataDir, "cognito-issuer-cognito.json"))
	if err != nil || !strings.Contains(string(pin), op.Issuer()) {
		t.Fatalf("pin file: %v %s", err, pin)
	}

	other := op.Base() + "/us-east-1_otherpool"
	op.setClaims(cognitoUser(other))
	b = newProvBrowser(t)
	wantError(t, b, app, b.signIn(app, "cognito", nil), "OAuthCallback")

	// An authorization response naming another pool is refused before the
	// token call.
	op.setClaims(cognitoUser(op.Issuer()))
	op.mu.Lock()
	op.AuthIss, op.Tokens = other, nil
	op.mu.Unlock()
	b = newProvBrowser(t)
	wantError(t, b, app, b.signIn(app, "cognito", nil), "OAuthCallback")
	op.mu.Lock()
	defer op.mu.Unlock()
	if len(op.Tokens) != 0 {
		t.Errorf("the token endpoint was called after a wrong iss parameter")
	}
}

// TestCognitoIssParameterMustMatchLearnedToken: while learning, an ID
// token naming another pool than the authorization response's iss is
// refused and nothing is pinned; an iss parameter that is no user pool
// issuer is refused too.
func TestCognitoIssParameterMustMatchLearnedToken(t *testing.T) {
	op := newCognitoOP(t)
	op.setClaims(cognitoUser(op.Base() + "/us-east-1_otherpool"))
	dataDir := t.TempDir()
	app := startProv(t, map[string]string{"COGNITO_CLIENT_ID": "tutorialclient", "COGNITO_CLIENT_SECRET": "tutsecret",
		"COGNITO_DOMAIN": op.Base(), "AUTHBFF_DATA_DIR": dataDir})
	b := newProvBrowser(t)
	wantError(t, b, app, b.signIn(app, "cognito", nil), "OAuthCallback")
	if _, err := os.Stat(filepath.Join(dataDir, "cognito-issuer-cognito.json")); err == nil {
		t.Fatal("an issuer was pinned from a token that contradicts the iss parameter")
	}

	op.mu.Lock()
	op.AuthIss = "https://evil.example/us-east-1_heldout"
	op.mu.Unlock()
	op.setClaims(cognitoUser(op.Issuer()))
	b = newProvBrowser(t)
	wantError(t, b, app, b.signIn(app, "cognito", nil), "OAuthCallback")
}
