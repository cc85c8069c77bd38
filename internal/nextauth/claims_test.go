package nextauth

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

func TestMapClaims(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	maps := []ClaimMap{{"roles", "cognito:groups"}, {"tenant", "custom:tenant_id"}, {"big", "big"}, {"tok", "tok"}}
	cl := &oidc.Claims{Raw: map[string]any{
		"cognito:groups":   []any{"admins", "ops"},
		"custom:tenant_id": "t1",
		"big":              strings.Repeat("x", MaxClaimValue),
		"tok":              "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
	}}
	got := mapClaims(log, maps, cl, nil)
	if got["roles"] != `["admins","ops"]` || got["tenant"] != `"t1"` {
		t.Errorf("mapped = %v", got)
	}
	if _, has := got["big"]; has {
		t.Error("a value over MaxClaimValue was kept")
	}
	if _, has := got["tok"]; has {
		t.Error("a token-shaped value was kept")
	}
	// A refresh whose claims lack a mapped claim keeps its value; one that
	// has it replaces it; a field no mapping names (a hook's) is kept.
	prev := map[string]string{"roles": `["admins"]`, "tenant": `"t0"`, "plan": `"pro"`}
	got = mapClaims(log, maps, &oidc.Claims{Raw: map[string]any{"custom:tenant_id": "t2"}}, prev)
	if got["roles"] != `["admins"]` || got["tenant"] != `"t2"` || got["plan"] != `"pro"` {
		t.Errorf("after refresh = %v", got)
	}
	if prev["tenant"] != `"t0"` {
		t.Error("mapClaims modified the previous map (it may be the cache's)")
	}
}

func TestRenderExtras(t *testing.T) {
	c := &Core{cfg: &Settings{SessionUserID: true}}
	s := &session.Session{Data: session.Data{
		User:   session.User{ID: "sub-1", Name: "Ada"},
		Claims: map[string]string{"roles": `["admins"]`, "name": `"Mallory"`},
		Extra:  map[string]string{"theme": `"dark"`, "expires": `"never"`},
	}}
	var m map[string]any
	b := c.RenderSession(s)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	u := m["user"].(map[string]any)
	if u["id"] != "sub-1" || u["name"] != "Ada" || u["roles"].([]any)[0] != "admins" {
		t.Errorf("user = %v", u)
	}
	if m["theme"] != "dark" || m["expires"] == "never" {
		t.Errorf("session JSON %s", b)
	}
	if strings.Count(string(b), `"name"`) != 1 || strings.Count(string(b), `"expires"`) != 1 {
		t.Errorf("a reserved field written twice: %s", b)
	}
}

func TestSessionHookNeverReplaces(t *testing.T) {
	c := &Core{cfg: &Settings{Hooks: Hooks{Session: func(context.Context, SessionView) map[string]any {
		return map[string]any{"plan": "pro", "theme": "hook", "expires": "never"}
	}}}, log: slog.New(slog.DiscardHandler)}
	s := &session.Session{Data: session.Data{User: session.User{Name: "Ada"}, Extra: map[string]string{"theme": `"dark"`}}}
	js := c.RenderSession(s)
	out := c.withSessionHook(context.Background(), js, s)
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if m["plan"] != "pro" || m["theme"] != "dark" || m["expires"] == "never" || strings.Count(string(out), `"theme"`) != 1 {
		t.Fatalf("with the hook: %s", out)
	}
	if !strings.HasPrefix(string(out), string(js[:len(js)-1])) {
		t.Fatalf("the cached JSON was changed: %s", js)
	}
}
