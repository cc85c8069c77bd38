package bff_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestUpstreamGroupsAndStepUpWithTokenPolicy: an upstream's groups and
// step-up requirement hold whatever token policy it has. A policy sends
// the call down its own path (proxy_tokens.go); the checks must not be
// skipped there: grace (no group) and a session without the asked acr get
// their refusal, and the upstream is never called for them.
func TestUpstreamGroupsAndStepUpWithTokenPolicy(t *testing.T) {
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer api.Close()
	app := startProv(t, map[string]string{
		"UPSTREAM_ORDERS": api.URL, "UPSTREAM_ORDERS_TOKEN": "none", "UPSTREAM_ORDERS_GROUPS": "admins",
		"UPSTREAM_VAULT": api.URL, "UPSTREAM_VAULT_TOKEN": "none", "UPSTREAM_VAULT_ACR": "urn:mfa",
	})
	grace, ada := shapeClient(), shapeClient()
	devSignIn(t, grace, app.URL, "grace")
	devSignIn(t, ada, app.URL, "ada")

	resp, body := get(t, grace, app.URL+"/api/proxy/orders/list", true)
	wantForbidden(t, "grace's orders (token policy none)", resp, body)
	if n := calls.Load(); n != 0 {
		t.Fatalf("the upstream was called %d times for grace", n)
	}
	if resp, body := get(t, ada, app.URL+"/api/proxy/orders/list", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("ada's orders: %d %s", resp.StatusCode, body)
	}
	before := calls.Load()
	resp, body = get(t, ada, app.URL+"/api/proxy/vault/secret", true)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "insufficient_user_authentication") ||
		!strings.Contains(resp.Header.Get("WWW-Authenticate"), `acr_values="urn:mfa"`) {
		t.Fatalf("vault without urn:mfa: %d %s (WWW-Authenticate %q)", resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
	}
	if calls.Load() != before {
		t.Fatal("the step-up upstream was called for a session without the acr")
	}
}
