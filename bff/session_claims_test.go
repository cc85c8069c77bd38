package bff_test

import (
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/bffhook"
	"github.com/authbff/authbff/internal/devidp"
)

// TestSessionClaimsAndUserID (issue 23): with the dev IdP (ada in group
// admins, grace in none), AUTH_SESSION_CLAIMS="roles=cognito:groups" and
// AUTH_SESSION_USER_ID=1, ada's session JSON has user.roles ["admins"] and
// user.id her sub; grace's has no roles (or []); name, email and image are
// the profile's; no token anywhere.
func TestSessionClaimsAndUserID(t *testing.T) {
	app := startProv(t, map[string]string{"AUTH_SESSION_CLAIMS": "roles=cognito:groups", "AUTH_SESSION_USER_ID": "1"})

	ada := shapeClient()
	devSignIn(t, ada, app.URL, "ada")
	m, raw := shapeReadSession(t, ada, app.URL)
	u := user(m)
	if !reflect.DeepEqual(u["roles"], []any{"admins"}) {
		t.Errorf("ada's user.roles = %#v, want [admins]: %s", u["roles"], raw)
	}
	if u["id"] != demoSub(t, "ada") {
		t.Errorf("ada's user.id = %v, want her sub %s", u["id"], demoSub(t, "ada"))
	}
	if u["name"] != "Ada Lovelace" || u["email"] != "ada@example.com" {
		t.Errorf("ada's profile changed: %s", raw)
	}
	noToken(t, raw)
	// Read again: the cached JSON says the same.
	if _, again := shapeReadSession(t, ada, app.URL); again != raw {
		t.Errorf("second read %s, first %s", again, raw)
	}

	grace := shapeClient()
	devSignIn(t, grace, app.URL, "grace")
	m, raw = shapeReadSession(t, grace, app.URL)
	u = user(m)
	if r, has := u["roles"]; has && !reflect.DeepEqual(r, []any{}) {
		t.Errorf("grace's user.roles = %#v, want absent or []: %s", r, raw)
	}
	if u["id"] != demoSub(t, "grace") {
		t.Errorf("grace's user.id = %v, want her sub", u["id"])
	}
}

// TestSessionShapeOffRendersAsBefore: without the settings, the session
// JSON has neither user.id nor any mapped field.
func TestSessionShapeOffRendersAsBefore(t *testing.T) {
	app := startProv(t, nil)
	c := shapeClient()
	devSignIn(t, c, app.URL, "ada")
	m, raw := shapeReadSession(t, c, app.URL)
	u := user(m)
	if _, has := u["id"]; has {
		t.Errorf("user.id without AUTH_SESSION_USER_ID: %s", raw)
	}
	if _, has := u["roles"]; has {
		t.Errorf("user.roles without AUTH_SESSION_CLAIMS: %s", raw)
	}
	if len(u) != 3 {
		t.Errorf("user has %d fields, want name, email, image: %s", len(u), raw)
	}
}

// TestSessionShapeOptionsChecked: reserved or malformed fields are
// refused by field path.
func TestSessionShapeOptionsChecked(t *testing.T) {
	o := bff.Options{DevIdP: true, Logger: slog.New(slog.DiscardHandler),
		SessionClaims:    map[string]string{"name": "nickname", "roles": "", "bad-key": "x"},
		SessionUpdatable: []string{"theme", "user", "1x"},
	}
	b, err := bff.New(context.Background(), o)
	if err == nil {
		b.Close()
		t.Fatal("New accepted reserved session fields")
	}
	for _, want := range []string{`SessionClaims["name"]`, `SessionClaims["roles"]`, `SessionClaims["bad-key"]`,
		"SessionUpdatable[1]", "SessionUpdatable[2]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not name %s: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "SessionUpdatable[0]") {
		t.Errorf("theme refused: %v", err)
	}
}

// TestSessionClaimsFollowRefresh: the mapped claims are refreshed with the
// profile: ada moved to group ops at the IdP has user.roles ["ops"] after
// the next refresh; a refreshed token without the claim keeps the value.
func TestSessionClaimsFollowRefresh(t *testing.T) {
	app := startProv(t, map[string]string{"AUTH_SESSION_CLAIMS": "roles=cognito:groups",
		"AUTH_REFRESH_MARGIN": "2h", "AUTH_REFRESH_ON_SESSION": "1"}) // every read refreshes (1 h tokens)
	_, idp := bffhook.Internals(app.BFF)
	c := shapeClient()
	devSignIn(t, c, app.URL, "ada")
	var ada devidp.User
	for _, u := range devidp.DemoUsers() {
		if u.Username == "ada" {
			ada = u
		}
	}
	ada.Groups = []string{"ops"}
	idp.SetUser(ada)
	m, raw := shapeReadSession(t, c, app.URL)
	if m["refreshedAt"] == nil || !reflect.DeepEqual(user(m)["roles"], []any{"ops"}) {
		t.Fatalf("after a refresh with groups [ops]: %s", raw)
	}
	ada.Groups = nil // the refreshed ID token has no cognito:groups
	idp.SetUser(ada)
	m, raw = shapeReadSession(t, c, app.URL)
	if !reflect.DeepEqual(user(m)["roles"], []any{"ops"}) {
		t.Fatalf("a refresh without the claim changed roles: %s", raw)
	}
}
