package bff_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/authbff/authbff/internal/redistest"
)

// TestUpdateDataAcrossInstances (issue 23): with AUTH_SESSION_UPDATABLE,
// update({theme: "dark", name: "Mallory"}) on instance a makes theme
// "dark" in the session JSON instance b reads (b had cached the session
// before), user.name unchanged and name nowhere else; a 5 KB data changes
// nothing and is no error; two instances' updates of different keys both
// land; after sign-out an update brings nothing back.
func TestUpdateDataAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	env := map[string]string{"SESSION_STORE": srv.URL, "AUTH_SESSION_UPDATABLE": "theme,locale"}
	a, b := startProv(t, env), startProv(t, env)

	c := shapeClient()
	devSignIn(t, c, a.URL, "ada")
	if m, raw := shapeReadSession(t, c, b.URL); user(m)["name"] != "Ada Lovelace" || m["theme"] != nil {
		t.Fatalf("b before the update: %s", raw)
	}

	status, m := update(t, c, a.URL, map[string]any{"theme": "dark", "name": "Mallory"})
	if status != http.StatusOK || m["theme"] != "dark" || user(m)["name"] != "Ada Lovelace" || m["name"] != nil {
		t.Fatalf("update on a: %d %v", status, m)
	}
	m, raw := shapeReadSession(t, c, b.URL)
	if m["theme"] != "dark" || user(m)["name"] != "Ada Lovelace" || m["name"] != nil || strings.Contains(raw, "Mallory") {
		t.Fatalf("b after a's update: %s", raw)
	}

	status, m = update(t, c, a.URL, map[string]any{"theme": strings.Repeat("x", 5000)})
	if status != http.StatusOK || m["theme"] != "dark" || user(m)["name"] != "Ada Lovelace" {
		t.Fatalf("5 KB update: %d %v (want the session unchanged, no error)", status, m)
	}

	// Two instances at once, each its own key: both land.
	var wg sync.WaitGroup
	for i, base := range []string{a.URL, b.URL} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key, val := "theme", "light"
			if i == 1 {
				key, val = "locale", "fr"
			}
			if status, _ := update(t, c, base, map[string]any{key: val}); status != http.StatusOK {
				t.Errorf("update %s on %s: %d", key, base, status)
			}
		}()
	}
	wg.Wait()
	for _, base := range []string{a.URL, b.URL} {
		if m, raw := shapeReadSession(t, c, base); m["theme"] != "light" || m["locale"] != "fr" {
			t.Errorf("%s after both updates: %s", base, raw)
		}
	}

	// Signed out on a: b's update finds no session and writes none.
	stale := shapeClient()
	for _, u := range []string{a.URL} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		stale.Jar.SetCookies(req.URL, c.Jar.Cookies(req.URL))
	}
	signOut(t, c, a.URL)
	if status, m := update(t, stale, b.URL, map[string]any{"theme": "dark"}); status != http.StatusOK || len(m) != 0 {
		t.Fatalf("update after sign-out: %d %v, want {}", status, m)
	}
	if m, raw := shapeReadSession(t, stale, a.URL); len(m) != 0 {
		t.Fatalf("the ended session came back: %s", raw)
	}
}
