package config

import (
	"reflect"
	"testing"
)

func TestSessionShapeVariables(t *testing.T) {
	c := mustLoad(t, "AUTH_SESSION_CLAIMS=roles=cognito:groups, tenant=custom:tenant_id",
		"AUTH_SESSION_USER_ID=1", "AUTH_SESSION_UPDATABLE=theme, locale",
		"AUTH_OKTA_ISSUER=https://okta.example.com", "AUTH_OKTA_ID=id", "AUTH_OKTA_SECRET=s", "AUTH_OKTA_GROUPS_CLAIM=roles",
		"NEXTAUTH_SECRET="+secret32)
	if want := map[string]string{"roles": "cognito:groups", "tenant": "custom:tenant_id"}; !reflect.DeepEqual(c.SessionClaims, want) {
		t.Errorf("SessionClaims = %v, want %v", c.SessionClaims, want)
	}
	if !c.SessionUserID || !reflect.DeepEqual(c.SessionUpdatable, []string{"theme", "locale"}) {
		t.Errorf("SessionUserID %v, SessionUpdatable %v", c.SessionUserID, c.SessionUpdatable)
	}
	if len(c.Providers) != 1 || c.Providers[0].GroupsClaim != "roles" {
		t.Errorf("providers %+v: want okta with GroupsClaim roles", c.Providers)
	}

	_, ps := load(t, "", "AUTH_SESSION_CLAIMS=roles", "AUTH_SESSION_USER_ID=maybe")
	wantProblem(t, ps, "AUTH_SESSION_CLAIMS", "not field=claim")
	wantProblem(t, ps, "AUTH_SESSION_USER_ID", "")
	_, ps = load(t, "", "AUTH_SESSION_CLAIMS=a=x a=y")
	wantProblem(t, ps, "AUTH_SESSION_CLAIMS", "twice")
}

func TestUpstreamGroupsVariable(t *testing.T) {
	c := mustLoad(t, "UPSTREAM_ORDERS=https://api.example.com", "UPSTREAM_ORDERS_GROUPS=admins|ops, staff")
	if want := []string{"admins", "ops", "staff"}; !reflect.DeepEqual(c.UpstreamGroups["orders"], want) {
		t.Errorf("UpstreamGroups = %v, want orders: %v", c.UpstreamGroups, want)
	}
	if _, isUpstream := c.Upstreams["orders_groups"]; isUpstream {
		t.Error("UPSTREAM_ORDERS_GROUPS was read as an upstream")
	}
	_, ps := load(t, "", "UPSTREAM_NOPE_GROUPS=admins", "AUTH_OKTA_ISSUER=https://okta.example.com", "AUTH_OKTA_ID=id")
	wantProblem(t, ps, "UPSTREAM_NOPE_GROUPS", "no configured upstream")
}
