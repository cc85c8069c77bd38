package bff_test

import (
	"reflect"
	"testing"
)

// TestGroupsClaimPerProvider (issue 23): AUTH_<ID>_GROUPS_CLAIM=roles
// takes an Entra-style "roles" claim as the user's groups (the "groups"
// claim then counts for nothing): user.groups, a group-guarded page and
// AUTH_SESSION_CLAIMS all see them.
func TestGroupsClaimPerProvider(t *testing.T) {
	op := newProvOP(t, nil)
	op.setClaims(func(nonce string) map[string]any {
		return idClaims(op.Issuer(), "u1", "eclient", nonce, map[string]any{"name": "Ada", "email": "ada@example.com",
			"roles": []any{"Admin"}, "groups": []any{"g-123"}})
	})
	app := startProv(t, map[string]string{"AUTH_ENTRA_ISSUER": op.Issuer(), "AUTH_ENTRA_ID": "eclient", "AUTH_ENTRA_SECRET": "s",
		"AUTH_ENTRA_GROUPS_CLAIM": "roles", "AUTH_SESSION_GROUPS": "1", "PROTECTED_PATHS": "/admin*:Admin,/ops*:g-123"})
	b := newProvBrowser(t)
	b.signIn(app, "entra", nil)
	if user := b.sessionUser(app); !reflect.DeepEqual(user["groups"], []any{"Admin"}) {
		t.Fatalf("user.groups = %v, want [Admin] from the roles claim", user["groups"])
	}
	if resp, _ := b.get(app.URL + "/admin"); resp.StatusCode == 302 || resp.StatusCode == 403 {
		t.Errorf("/admin for a member of Admin: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := b.get(app.URL + "/ops"); resp.StatusCode != 302 {
		t.Errorf("/ops needs g-123, which the groups claim (not the configured one) names: %d", resp.StatusCode)
	}
}
