package config

import (
	"reflect"
	"testing"
)

// TestUpstreamPolicies: UPSTREAM_<NAME>_TOKEN/_RESOURCE/_SCOPE/_AUDIENCE/
// _PROVIDER/_WEBSOCKET set an upstream's policy and are not upstreams of
// their own; UPSTREAM_<NAME> alone has no policy; a suffix without its
// base is an upstream of its own (as before).
func TestUpstreamPolicies(t *testing.T) {
	c := mustLoad(t,
		"UPSTREAM_A=https://a.example/api", "UPSTREAM_A_RESOURCE=https://a.example, https://a2.example",
		"UPSTREAM_A_SCOPE=read write", "UPSTREAM_A_AUDIENCE=api-a", "UPSTREAM_A_PROVIDER=okta",
		"UPSTREAM_C=https://c.example", "UPSTREAM_C_TOKEN=client", "UPSTREAM_C_WEBSOCKET=1",
		"UPSTREAM_PLAIN=https://plain.example",
		"UPSTREAM_LONE_TOKEN=https://lone.example",
	)
	if len(c.Upstreams) != 4 || c.Upstreams["lone_token"] == nil || c.Upstreams["a_resource"] != nil {
		t.Fatalf("Upstreams = %v", c.Upstreams)
	}
	want := map[string]UpstreamPolicy{
		"a": {Resource: []string{"https://a.example", "https://a2.example"}, Scope: "read write", Audience: "api-a", Provider: "okta"},
		"c": {Token: "client", WebSocket: true},
	}
	if !reflect.DeepEqual(c.UpstreamPolicies, want) {
		t.Fatalf("UpstreamPolicies = %+v, want %+v", c.UpstreamPolicies, want)
	}
	_, ps := load(t, "", "UPSTREAM_A=https://a.example", "UPSTREAM_A_TOKEN=admin", "UPSTREAM_A_RESOURCE=not a uri",
		"UPSTREAM_A_WEBSOCKET=maybe")
	for _, v := range []string{"UPSTREAM_A_TOKEN", "UPSTREAM_A_RESOURCE", "UPSTREAM_A_WEBSOCKET"} {
		if _, ok := problemFor(ps, v); !ok {
			t.Errorf("no problem reported for %s: %v", v, ps)
		}
	}
}
