package bff_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

type sessionsList struct {
	Sessions []struct {
		ID, Created, LastSeen, Expires, UserAgent string
		Current                                   bool
	}
}

func (b *browser) bffSessions(app *testApp) sessionsList {
	b.T.Helper()
	r := b.bffCall("GET", app.URL+"/api/auth/sessions", "", "User-Agent", "")
	var v sessionsList
	if r.StatusCode != 200 || json.Unmarshal([]byte(r.Body), &v) != nil {
		b.T.Fatalf("GET /sessions: %d %s", r.StatusCode, r.Body)
	}
	return v
}

func TestSessionsListAndEnd(t *testing.T) {
	app := startApp(t, bffEnv(t))
	spec := newSpecChecker(t, app.URL)
	phone, laptop, other := newBrowser(t), newBrowser(t), newBrowser(t)
	phone.SignInAs(app.URL, "ada")
	laptop.SignInAs(app.URL, "ada")
	other.SignInAs(app.URL, "grace")
	api := app.URL + "/api/auth/sessions"

	wantJSONError(t, laptop.bffCall("GET", api, "", "X-CSRF", ""), 401, "csrf_header_missing")
	r := newBrowser(t).bffCall("GET", api, "")
	wantJSONError(t, r, 401, "unauthenticated")
	spec.check(r, "")

	r = laptop.bffCall("GET", api, "")
	spec.check(r, "")
	for _, tok := range []string{phone.SessionCookie(app.URL), laptop.SessionCookie(app.URL)} {
		if strings.Contains(r.Body, tok) {
			t.Fatal("GET /sessions shows a session cookie token")
		}
	}
	list := laptop.bffSessions(app)
	hex16 := regexp.MustCompile(`^[0-9a-f]{16}$`)
	var current, phoneID string
	for _, s := range list.Sessions {
		if !hex16.MatchString(s.ID) || s.Created == "" || s.Expires == "" || s.LastSeen == "" || !strings.HasPrefix(s.UserAgent, "Go-http-client") {
			t.Fatalf("session entry %+v", s)
		}
		if s.Current {
			current = s.ID
		} else {
			phoneID = s.ID
		}
	}
	if len(list.Sessions) != 2 || current == "" || phoneID == "" {
		t.Fatalf("ada's sessions = %+v, want 2 with one current", list)
	}

	// grace cannot end ada's session, nor can a missing X-CSRF header.
	wantJSONError(t, other.bffCall("DELETE", api+"/"+phoneID, ""), 404, "not_found")
	wantJSONError(t, laptop.bffCall("DELETE", api+"/"+phoneID, "", "X-CSRF", ""), 401, "csrf_header_missing")
	wantJSONError(t, laptop.bffCall("DELETE", api+"/zz", ""), 404, "not_found")
	if phone.Session(app.URL) == nil {
		t.Fatal("a refused DELETE ended the session")
	}

	r = laptop.bffCall("DELETE", api+"/"+phoneID, "")
	spec.check(r, "")
	if r.StatusCode != 204 {
		t.Fatalf("DELETE own other session: %d %s", r.StatusCode, r.Body)
	}
	if phone.Session(app.URL) != nil || laptop.Session(app.URL) == nil || other.Session(app.URL) == nil {
		t.Fatal("DELETE ended the wrong sessions")
	}
	if n := len(laptop.bffSessions(app).Sessions); n != 1 {
		t.Fatalf("after DELETE ada has %d sessions", n)
	}
	// Ending the current session signs this browser out.
	r = laptop.bffCall("DELETE", api+"/"+current, "")
	if r.StatusCode != 204 || laptop.Session(app.URL) != nil {
		t.Fatalf("DELETE current session: %d, still signed in: %v", r.StatusCode, laptop.Session(app.URL) != nil)
	}
}
