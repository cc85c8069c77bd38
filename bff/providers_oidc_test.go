package bff_test

import (
	"strings"
	"testing"
)

// setClaims makes op's next ID tokens from f.
func (op *provOP) setClaims(f func(nonce string) map[string]any) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.Claims = f
}

func googleEnv(op *provOP) map[string]string {
	return map[string]string{"AUTH_GOOGLE_ID": "gclient", "AUTH_GOOGLE_SECRET": "gsecret", "AUTH_GOOGLE_ISSUER": op.Issuer()}
}

// TestGoogleSchemelessIssuer: Google's ID tokens may carry iss without the
// scheme (documented by Google): with AUTH_GOOGLE_ISSUER at a test server
// whose tokens say "127.0.0.1:<port>", the person signs in, and the
// authorization URL asks for a refresh token (access_type=offline,
// prompt=consent).
func TestGoogleSchemelessIssuer(t *testing.T) {
	op := newProvOP(t, nil)
	bare := strings.TrimPrefix(op.Issuer(), "http://")
	op.setClaims(func(nonce string) map[string]any {
		return idClaims(bare, "1098", "gclient", nonce, map[string]any{"name": "Grace", "email": "grace@example.com", "email_verified": true})
	})
	app := startProv(t, googleEnv(op))
	b := newProvBrowser(t)
	if loc := b.signIn(app, "google", nil); loc != app.URL+"/account" {
		t.Fatalf("callback went to %q", loc)
	}
	if user := b.sessionUser(app); user["name"] != "Grace" || user["email"] != "grace@example.com" {
		t.Fatalf("session user = %v", user)
	}
	op.mu.Lock()
	q := op.AuthQuery
	op.mu.Unlock()
	if q.Get("access_type") != "offline" || q.Get("prompt") != "consent" || !strings.Contains(q.Get("scope"), "openid") {
		t.Fatalf("authorize query = %v: want access_type=offline, prompt=consent, openid", q)
	}
}

// TestSchemelessIssuerOnlyForGoogle: the same scheme-less iss from a
// generic OIDC provider is refused; and Google accepts exactly the two
// spellings, not another host's.
func TestSchemelessIssuerOnlyForGoogle(t *testing.T) {
	op := newProvOP(t, nil)
	bare := strings.TrimPrefix(op.Issuer(), "http://")
	op.setClaims(func(nonce string) map[string]any { return idClaims(bare, "1098", "gclient", nonce, nil) })
	app := startProv(t, map[string]string{"AUTH_OKTA_ISSUER": op.Issuer(), "AUTH_OKTA_ID": "gclient", "AUTH_OKTA_SECRET": "s"})
	b := newProvBrowser(t)
	wantError(t, b, app, b.signIn(app, "okta", nil), "OAuthCallback")

	op.setClaims(func(nonce string) map[string]any { return idClaims("x"+bare, "1098", "gclient", nonce, nil) })
	app = startProv(t, googleEnv(op))
	b = newProvBrowser(t)
	wantError(t, b, app, b.signIn(app, "google", nil), "OAuthCallback")
}

// TestGoogleHostedDomain: with AUTH_GOOGLE_HOSTED_DOMAIN=example.com, hd is
// sent, a token with hd other.com (or none) is refused with AccessDenied
// and one with hd example.com signs in.
func TestGoogleHostedDomain(t *testing.T) {
	op := newProvOP(t, nil)
	env := googleEnv(op)
	env["AUTH_GOOGLE_HOSTED_DOMAIN"] = "example.com"
	app := startProv(t, env)
	for _, hd := range []any{"other.com", nil} {
		op.setClaims(func(nonce string) map[string]any {
			return idClaims(op.Issuer(), "1098", "gclient", nonce, map[string]any{"hd": hd, "email": "g@other.com"})
		})
		b := newProvBrowser(t)
		wantError(t, b, app, b.signIn(app, "google", nil), "AccessDenied")
	}
	op.mu.Lock()
	if hd := op.AuthQuery.Get("hd"); hd != "example.com" {
		t.Errorf("authorize hd = %q, want example.com", hd)
	}
	op.mu.Unlock()
	op.setClaims(func(nonce string) map[string]any {
		return idClaims(op.Issuer(), "1098", "gclient", nonce, map[string]any{"hd": "example.com", "email": "g@example.com"})
	})
	b := newProvBrowser(t)
	b.signIn(app, "google", nil)
	if user := b.sessionUser(app); user["email"] != "g@example.com" {
		t.Fatalf("session user = %v", user)
	}
}

const tenantA, tenantB = "9188040d-6c67-4c5b-b112-36a304b66dad", "72f988bf-86f1-41af-91ab-2d7cd011db47"

// newEntraOP is a multi-tenant Entra issuer: discovery at /common/v2.0
// states the template .../{tenantid}/v2.0.
func newEntraOP(t *testing.T) *provOP {
	op := newProvOP(t, func(op *provOP) { op.IssuerPath = "/common/v2.0" })
	op.DiscoveryIssuer = op.Base() + "/{tenantid}/v2.0"
	return op
}

// entraUser makes tokens of a user of tenant tid whose iss names issTenant.
func entraUser(op *provOP, tid, issTenant string) func(string) map[string]any {
	return func(nonce string) map[string]any {
		return idClaims(op.Base()+"/"+issTenant+"/v2.0", "sub-"+tid[:4], "entraclient", nonce,
			map[string]any{"tid": tid, "oid": "oid-" + tid[:4], "name": "User " + tid[:4], "preferred_username": "u@" + tid[:4] + ".example"})
	}
}

func entraEnv(op *provOP, tenants string) map[string]string {
	env := map[string]string{"AUTH_MICROSOFT_ENTRA_ID_ID": "entraclient", "AUTH_MICROSOFT_ENTRA_ID_SECRET": "es",
		"AUTH_MICROSOFT_ENTRA_ID_ISSUER": op.Issuer()}
	if tenants != "" {
		env["AUTH_MICROSOFT_ENTRA_ID_TENANTS"] = tenants
	}
	return env
}

// TestEntraMultiTenant: a common issuer with AUTH_MICROSOFT_ENTRA_ID_TENANTS
// = tenant A: a tenant-A user signs in, a tenant-B user is refused
// (AccessDenied), a token whose iss names another tenant than its tid is
// refused (OAuthCallback).
func TestEntraMultiTenant(t *testing.T) {
	op := newEntraOP(t)
	app := startProv(t, entraEnv(op, tenantA))

	op.setClaims(entraUser(op, tenantA, tenantA))
	b := newProvBrowser(t)
	if loc := b.signIn(app, "microsoft-entra-id", nil); loc != app.URL+"/account" {
		t.Fatalf("tenant A: callback went to %q", loc)
	}
	if user := b.sessionUser(app); user["name"] != "User "+tenantA[:4] {
		t.Fatalf("tenant A: session user = %v", user)
	}

	op.setClaims(entraUser(op, tenantB, tenantB))
	b = newProvBrowser(t)
	wantError(t, b, app, b.signIn(app, "microsoft-entra-id", nil), "AccessDenied")

	for _, tc := range [][2]string{{tenantA, tenantB}, {tenantB, tenantA}, {tenantA, "common"}, {tenantA, "{tenantid}"}} {
		op.setClaims(entraUser(op, tc[0], tc[1]))
		b = newProvBrowser(t)
		wantError(t, b, app, b.signIn(app, "microsoft-entra-id", nil), "OAuthCallback")
	}
}

// TestEntraTenantsRequired: a multi-tenant issuer without
// AUTH_MICROSOFT_ENTRA_ID_TENANTS refuses to start, saying why; "*" starts
// and says loudly that every tenant may sign in; a single-tenant issuer
// needs no list.
func TestEntraTenantsRequired(t *testing.T) {
	op := newEntraOP(t)
	_, err := provOptions(t, entraEnv(op, ""), "http://127.0.0.1:3000")
	if err == nil || !strings.Contains(err.Error(), "AUTH_MICROSOFT_ENTRA_ID_TENANTS") || !strings.Contains(err.Error(), "multi-tenant") {
		t.Fatalf("err = %v, want a problem naming AUTH_MICROSOFT_ENTRA_ID_TENANTS", err)
	}
	app := startProv(t, entraEnv(op, "*"))
	if logs := app.Logs.String(); !strings.Contains(logs, "EVERY Microsoft Entra ID tenant") {
		t.Errorf("no loud warning for tenants *; logs:\n%s", logs)
	}
	op.setClaims(entraUser(op, tenantB, tenantB))
	b := newProvBrowser(t)
	if loc := b.signIn(app, "microsoft-entra-id", nil); loc != app.URL+"/account" {
		t.Fatalf("tenants *: callback went to %q", loc)
	}

	single := newProvOP(t, func(op *provOP) { op.IssuerPath = "/" + tenantA + "/v2.0" })
	single.setClaims(func(nonce string) map[string]any {
		return idClaims(single.Issuer(), "s1", "entraclient", nonce, map[string]any{"tid": tenantA, "name": "Solo"})
	})
	app = startProv(t, entraEnv(single, ""))
	b = newProvBrowser(t)
	b.signIn(app, "microsoft-entra-id", nil)
	if user := b.sessionUser(app); user["name"] != "Solo" {
		t.Fatalf("single tenant: session user = %v", user)
	}
}

// TestOIDCProvidersListedByType: GET /providers gives v5's type oidc for
// OIDC presets and oauth in v4.
func TestOIDCProvidersListedByType(t *testing.T) {
	op := newProvOP(t, nil)
	for flavor, want := range map[string]string{"v4": "oauth", "v5": "oidc"} {
		env := googleEnv(op)
		env["AUTH_CLIENT_FLAVOR"] = flavor
		app := startProv(t, env)
		_, body := newProvBrowser(t).get(app.URL + "/api/auth/providers")
		if !strings.Contains(string(body), `"type":"`+want+`"`) || !strings.Contains(string(body), `"name":"Google"`) {
			t.Errorf("%s: providers = %s, want Google with type %s", flavor, body, want)
		}
	}
}
