package devidp

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestRootMountAndSetUser mounts the IdP at the server root and changes users
// at run time.
func TestRootMountAndSetUser(t *testing.T) {
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	idp, err := New(Options{
		BaseURL: srv.URL + "/", Region: "eu-west-1",
		Clients: []Client{{ID: "spa", RedirectURIs: []string{testCallback}}},
		Users:   []User{{Username: "bob", Email: "bob@example.com"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h = idp
	e := &env{idp: idp, srv: srv, base: srv.URL}
	if want := srv.URL + "/eu-west-1_authbffdev"; idp.Issuer() != want {
		t.Fatalf("Issuer() = %q, want %q", idp.Issuer(), want)
	}

	idp.SetUser(User{Username: "zed", Name: "Zed <Admin>"})
	c := browser(t)
	verifier, challenge := pkce("root")
	resp, page := get(t, c, srv.URL+"/oauth2/authorize?"+authParams("spa", challenge).Encode())
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Sign in as Zed &lt;Admin&gt;") || !strings.Contains(page, "Sign in as bob") {
		t.Fatalf("login page %d lacks the users:\n%s", resp.StatusCode, page)
	}
	action, fields := loginForm(t, page, "zed")
	resp, _ = postForm(t, c, action, fields, "", "")
	for _, ck := range resp.Cookies() {
		if ck.Name == "devidp_session" && ck.Path != "/" {
			t.Errorf("cookie path %q, want /", ck.Path)
		}
	}
	code := callbackParams(t, resp).Get("code")
	status, tok := e.tokenReq(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {testCallback}, "code_verifier": {verifier}, "client_id": {"spa"}}, "", "")
	if status != http.StatusOK {
		t.Fatalf("exchange %d %v", status, tok)
	}
	resp, info := e.bearerGet(t, "/oauth2/userInfo", tok["access_token"].(string))
	if resp.StatusCode != http.StatusOK || info["name"] != "Zed <Admin>" || info["sub"] == "" {
		t.Fatalf("userInfo %d %v", resp.StatusCode, info)
	}
	if _, ok := info["email_verified"]; ok {
		t.Error("email_verified present for a user without email")
	}

	idp.SetUser(User{Username: "zed", Name: "Zed Renamed"})
	_, tok = e.tokenReq(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {"spa"}}, "", "")
	if _, info = e.bearerGet(t, "/oauth2/userInfo", tok["access_token"].(string)); info["name"] != "Zed Renamed" {
		t.Errorf("after SetUser userInfo name = %v", info["name"])
	}
}
