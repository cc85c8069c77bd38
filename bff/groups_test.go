package bff_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authbff/authbff/bff"
)

// get sends a GET as the SPA's fetch does (X-CSRF: 1) when api is true.
func get(t *testing.T, c *http.Client, u string, api bool) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if api {
		req.Header.Set("X-CSRF", "1")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// wantForbidden checks a 403 {"error":"forbidden"} answer.
func wantForbidden(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	var v struct{ Error string }
	if resp.StatusCode != http.StatusForbidden || json.Unmarshal([]byte(body), &v) != nil || v.Error != "forbidden" {
		t.Errorf("%s: %d %s, want 403 forbidden", what, resp.StatusCode, body)
	}
}

// TestGroupsPerRoute (issue 23): PROTECTED_PATHS=/admin*:admins sends
// grace (in no group) to the AccessDenied page and serves ada (admins);
// UPSTREAM_<NAME>_GROUPS=admins answers grace 403 forbidden without
// calling the upstream, ada 200; bff.RequireGroups does the same for a
// host handler.
func TestGroupsPerRoute(t *testing.T) {
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer api.Close()
	app := startProv(t, map[string]string{
		"PROTECTED_PATHS": "/admin*:admins,/protected*", "UPSTREAM_DEMO_GROUPS": "admins",
		"UPSTREAM_ORDERS": api.URL, "UPSTREAM_ORDERS_GROUPS": "admins|ops,staff",
	})
	host := httptest.NewServer(app.BFF.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"admin":true}`)
	}), bff.RequireGroups("admins")))
	defer host.Close()

	grace, ada := shapeClient(), shapeClient()
	devSignIn(t, grace, app.URL, "grace")
	devSignIn(t, ada, app.URL, "ada")

	// Pages.
	resp, _ := get(t, grace, app.URL+"/admin", false)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || loc != app.URL+"/api/auth/error?error=AccessDenied" {
		t.Fatalf("grace GET /admin: %d Location %q, want the AccessDenied page", resp.StatusCode, loc)
	}
	if resp, body := get(t, grace, loc, false); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "AccessDenied") && !strings.Contains(body, "Access Denied") {
		t.Errorf("the AccessDenied page: %d", resp.StatusCode)
	}
	if resp, _ := get(t, grace, app.URL+"/admin/users", false); resp.StatusCode != http.StatusFound {
		t.Errorf("grace GET /admin/users: %d", resp.StatusCode)
	}
	if resp, _ := get(t, ada, app.URL+"/admin", false); resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusForbidden {
		t.Errorf("ada GET /admin: %d Location %q, want the page", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, grace, app.URL+"/protected", false); resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusForbidden {
		t.Errorf("grace GET /protected (no group needed): %d", resp.StatusCode)
	}

	// The proxy.
	resp, body := get(t, grace, app.URL+"/api/proxy/demo/me", true)
	wantForbidden(t, "grace's /api/proxy/demo/me", resp, body)
	if resp, body := get(t, ada, app.URL+"/api/proxy/demo/me", true); resp.StatusCode != http.StatusOK {
		t.Errorf("ada's /api/proxy/demo/me: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, grace, app.URL+"/api/proxy/orders/list", true)
	wantForbidden(t, "grace's orders", resp, body)
	if calls.Load() != 0 {
		t.Errorf("the upstream was called %d times for grace", calls.Load())
	}
	if resp, body := get(t, ada, app.URL+"/api/proxy/orders/list", true); resp.StatusCode != http.StatusOK || calls.Load() != 1 {
		t.Errorf("ada's orders: %d %s, upstream calls %d", resp.StatusCode, body, calls.Load())
	}

	// bff.Require with RequireGroups (the cookie jar ignores the port).
	resp, body = get(t, grace, host.URL+"/x", true)
	wantForbidden(t, "grace behind RequireGroups", resp, body)
	if resp, body := get(t, ada, host.URL+"/x", true); resp.StatusCode != http.StatusOK {
		t.Errorf("ada behind RequireGroups: %d %s", resp.StatusCode, body)
	}
}

// TestProtectedPathGroupsUnderAPI: a group-guarded PROTECTED_PATHS entry
// under /api answers a non-member 403 JSON, not a redirect.
func TestProtectedPathGroupsUnderAPI(t *testing.T) {
	app := startProv(t, map[string]string{"PROTECTED_PATHS": "/api/admin*:admins"})
	grace := shapeClient()
	devSignIn(t, grace, app.URL, "grace")
	resp, body := get(t, grace, app.URL+"/api/admin/x", true)
	wantForbidden(t, "grace's /api/admin/x", resp, body)
}
