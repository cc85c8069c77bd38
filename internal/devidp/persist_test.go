package devidp

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// TestStateFileSurvivesRestart: with StateFile, a restarted IdP (same URL)
// keeps its signing keys and refresh tokens: a session made before the
// restart still refreshes, its access token still verifies, and a revocation
// made before the restart still holds.
func TestStateFileSurvivesRestart(t *testing.T) {
	state := filepath.Join(t.TempDir(), "idp", "state.json")
	var h atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.Load().(http.Handler).ServeHTTP(w, r) }))
	defer srv.Close()
	start := func() *env {
		idp, err := New(Options{BaseURL: srv.URL + testPrefix, StateFile: state, Clients: []Client{
			{ID: testClientID, Secret: testSecret, RedirectURIs: []string{testCallback}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		h.Store(http.Handler(idp))
		return &env{idp: idp, srv: srv, base: srv.URL + testPrefix}
	}
	e := start()
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}
	tokens := func() (access, refresh string) {
		verifier, challenge := pkce("p")
		code := e.signIn(t, browser(t), authParams(testClientID, challenge), "ada")
		status, body := e.exchange(t, code, verifier)
		if status != 200 {
			t.Fatalf("exchange: %d %v", status, body)
		}
		return body["access_token"].(string), body["refresh_token"].(string)
	}
	at, rt := tokens()
	_, rtRevoked := tokens()
	if resp, _ := postForm(t, http.DefaultClient, e.base+"/oauth2/revoke", url.Values{"token": {rtRevoked}}, testClientID, testSecret); resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}

	e = start() // the restart
	if resp, _ := e.bearerGet(t, "/oauth2/userInfo", at); resp.StatusCode != 200 {
		t.Fatalf("an access token from before the restart no longer verifies: %d", resp.StatusCode)
	}
	refresh := func(tok string) (int, map[string]any) {
		return e.tokenReq(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok},
			"client_id": {testClientID}, "client_secret": {testSecret}}, "", "")
	}
	if status, body := refresh(rt); status != 200 || body["access_token"] == nil {
		t.Fatalf("refresh after restart: %d %v", status, body)
	}
	status, body := refresh(rtRevoked)
	wantOAuthError(t, status, body, "invalid_grant")

	// A corrupt state file is an error naming the file, never silently new keys.
	if err := os.WriteFile(state, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{BaseURL: srv.URL + testPrefix, StateFile: state, Clients: []Client{{ID: "x", RedirectURIs: []string{testCallback}}}}); err == nil {
		t.Fatal("a corrupt state file was accepted")
	}
}

// TestCloseStopsStateWrites: once Close returns, a request still answered
// (a sign-in's code exchange, a revocation) writes nothing into the state
// file's directory, so its owner may remove it (and the IdP still answers).
func TestCloseStopsStateWrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idp")
	state := filepath.Join(dir, "state.json")
	e := newStateEnv(t, state)
	verifier, challenge := pkce("c")
	code := e.signIn(t, browser(t), authParams(testClientID, challenge), "ada")
	e.idp.Close()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	status, body := e.exchange(t, code, verifier)
	if status != 200 {
		t.Fatalf("exchange after Close: %d %v", status, body)
	}
	if resp, _ := postForm(t, http.DefaultClient, e.base+"/oauth2/revoke", url.Values{"token": {body["refresh_token"].(string)}}, testClientID, testSecret); resp.StatusCode != 200 {
		t.Fatalf("revoke after Close: %d", resp.StatusCode)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the IdP wrote into %s after Close: %v", dir, err)
	}
}

// newStateEnv serves an IdP keeping its state in state.
func newStateEnv(t *testing.T, state string) *env {
	t.Helper()
	var h atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.Load().(http.Handler).ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	idp, err := New(Options{BaseURL: srv.URL + testPrefix, StateFile: state, Clients: []Client{
		{ID: testClientID, Secret: testSecret, RedirectURIs: []string{testCallback}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	h.Store(http.Handler(idp))
	return &env{idp: idp, srv: srv, base: srv.URL + testPrefix}
}
