package bff_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestEveryProviderListed: GitHub, Google, Apple, Entra, a plain OAuth 2.0
// provider and Cognito configured together: GET /providers lists each with
// NextAuth's shape (v5 types: oauth for plain OAuth 2.0, oidc for OpenID),
// and the sign-in page offers each.
func TestEveryProviderListed(t *testing.T) {
	g, op, entra, f := newFakeGitHub(t), newProvOP(t, nil), newEntraOP(t), newFakeOAuth2(t)
	keyFile, pub := appleKey(t)
	apple := newAppleOP(t, pub)
	env := map[string]string{"AUTH_CLIENT_FLAVOR": "v5", "COGNITO_CLIENT_ID": "c", "COGNITO_CLIENT_SECRET": "s", "COGNITO_ISSUER": op.Issuer()}
	for _, part := range []map[string]string{githubEnv(g), googleEnv(op), entraEnv(entra, tenantA), oauthEnv(f), appleEnv(apple, keyFile)} {
		for k, v := range part {
			env[k] = v
		}
	}
	app := startProv(t, env)
	b := newProvBrowser(t)
	_, body := b.get(app.URL + "/api/auth/providers")
	var got map[string]map[string]string
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{"github": {"GitHub", "oauth"}, "google": {"Google", "oidc"}, "apple": {"Apple", "oidc"},
		"microsoft-entra-id": {"Microsoft Entra ID", "oidc"}, "acme": {"Acme", "oauth"}, "cognito": {"Cognito", "oidc"}}
	if len(got) != len(want) {
		t.Errorf("providers = %s", body)
	}
	for id, w := range want {
		p := got[id]
		if p["id"] != id || p["name"] != w[0] || p["type"] != w[1] || p["signinUrl"] != app.URL+"/api/auth/signin/"+id ||
			p["callbackUrl"] != app.URL+"/api/auth/callback/"+id {
			t.Errorf("providers[%s] = %v, want name %s type %s and absolute URLs", id, p, w[0], w[1])
		}
	}
	_, page := b.get(app.URL + "/api/auth/signin")
	for id, w := range want {
		if !strings.Contains(string(page), `action="`+app.URL+`/api/auth/signin/`+id+`"`) || !strings.Contains(string(page), "Sign in with "+w[0]) {
			t.Errorf("the sign-in page does not offer %s:\n%s", id, page)
		}
	}
}
