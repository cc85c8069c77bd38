package bff_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/authbff/authbff/internal/oidc"
)

// fakeOAuth2 is a plain OAuth 2.0 provider (no OpenID Connect): its token
// endpoint answers JSON with expires_in and a refresh token; its profile
// endpoint nests the id.
type fakeOAuth2 struct {
	srv *httptest.Server

	mu         sync.Mutex
	AuthQuery  url.Values
	TokenForms []url.Values
	ExpiresIn  int
	Profile    map[string]any
	codes      map[string]url.Values
	tokens     map[string]bool
}

func newFakeOAuth2(t *testing.T) *fakeOAuth2 {
	f := &fakeOAuth2{codes: map[string]url.Values{}, tokens: map[string]bool{}, ExpiresIn: 3600,
		Profile: map[string]any{"data": map[string]any{"uid": 7731}, "display": "Ada Lovelace",
			"mail": "ada@example.com", "pic": "https://img.example.com/ada.png"}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOAuth2) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/oauth/authorize":
		q := r.URL.Query()
		code := oidc.RandomString(10)
		f.AuthQuery, f.codes[code] = q, q
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	case "/oauth/token":
		_ = r.ParseForm()
		f.TokenForms = append(f.TokenForms, r.PostForm)
		ok := false
		switch r.PostForm.Get("grant_type") {
		case "authorization_code":
			aq, found := f.codes[r.PostForm.Get("code")]
			delete(f.codes, r.PostForm.Get("code"))
			ok = found && oidc.PKCEChallenge(r.PostForm.Get("code_verifier")) == aq.Get("code_challenge")
		case "refresh_token":
			ok = strings.HasPrefix(r.PostForm.Get("refresh_token"), "rt-")
		}
		if !ok || r.PostForm.Get("client_secret") != "gsecret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		tok := "at-" + oidc.RandomString(8)
		f.tokens[tok] = true
		writeJSON(w, map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": f.ExpiresIn,
			"refresh_token": "rt-" + oidc.RandomString(8)})
	case "/api/me":
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !f.tokens[tok] {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		writeJSON(w, f.Profile)
	default:
		http.NotFound(w, r)
	}
}

func oauthEnv(f *fakeOAuth2) map[string]string {
	return map[string]string{
		"AUTH_ACME_TYPE": "oauth", "AUTH_ACME_ID": "gid", "AUTH_ACME_SECRET": "gsecret", "AUTH_ACME_SCOPE": "profile:read",
		"AUTH_ACME_AUTHORIZATION_URL": f.srv.URL + "/oauth/authorize", "AUTH_ACME_TOKEN_URL": f.srv.URL + "/oauth/token",
		"AUTH_ACME_USERINFO_URL": f.srv.URL + "/api/me",
		"AUTH_ACME_PROFILE_MAP":  "sub=data.uid name=display|login email=mail image=pic",
	}
}

// TestGenericOAuth2SignsIn: AUTH_ACME_TYPE=oauth with the three URLs and a
// profile map signs a person in with the mapped name, e-mail and image;
// the authorization URL has state and PKCE but no nonce and no openid.
func TestGenericOAuth2SignsIn(t *testing.T) {
	f := newFakeOAuth2(t)
	app := startProv(t, oauthEnv(f))
	b := newProvBrowser(t)
	if loc := b.signIn(app, "acme", nil); loc != app.URL+"/account" {
		t.Fatalf("callback went to %q", loc)
	}
	user := b.sessionUser(app)
	if user["name"] != "Ada Lovelace" || user["email"] != "ada@example.com" || user["image"] != "https://img.example.com/ada.png" {
		t.Fatalf("session user = %v", user)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.AuthQuery
	if q.Get("scope") != "profile:read" || q.Get("state") == "" || q.Get("code_challenge_method") != "S256" || q.Has("nonce") {
		t.Errorf("authorize query = %v", q)
	}
}

// TestGenericOAuth2NeedsSub: a profile without the mapped sub refuses the
// sign-in (OAuthCallback): nothing else identifies the user.
func TestGenericOAuth2NeedsSub(t *testing.T) {
	f := newFakeOAuth2(t)
	f.Profile = map[string]any{"display": "Ada", "mail": "ada@example.com"}
	app := startProv(t, oauthEnv(f))
	b := newProvBrowser(t)
	wantError(t, b, app, b.signIn(app, "acme", nil), "OAuthCallback")
}

// TestGenericOAuth2Refresh: an access token whose expires_in falls within
// the refresh margin is refreshed with the refresh token before a proxied
// call, which carries the new token.
func TestGenericOAuth2Refresh(t *testing.T) {
	f := newFakeOAuth2(t)
	f.ExpiresIn = 30 // inside the 60 s refresh margin: due at once
	var mu sync.Mutex
	var seen []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		writeJSON(w, map[string]any{"ok": true})
	}))
	t.Cleanup(api.Close)
	env := oauthEnv(f)
	env["UPSTREAM_API"] = api.URL
	app := startProv(t, env)
	b := newProvBrowser(t)
	b.signIn(app, "acme", nil)
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/proxy/api/orders", nil)
	req.Header.Set("X-CSRF", "1")
	req.Header.Set("Origin", app.URL)
	if resp, body := b.do(req); resp.StatusCode != http.StatusOK {
		t.Fatalf("proxy answered %d %s", resp.StatusCode, body)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	grants := []string{}
	for _, form := range f.TokenForms {
		grants = append(grants, form.Get("grant_type"))
	}
	if len(grants) != 2 || grants[1] != "refresh_token" {
		t.Fatalf("token calls %v, want the code exchange then a refresh", grants)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || !strings.HasPrefix(seen[0], "Bearer at-") {
		t.Fatalf("upstream saw %v", seen)
	}
}

// TestAuthorizationParamsMerged: AUTH_<ID>_AUTHORIZATION_PARAMS are sent
// on the authorization URL, under the ones signIn() passes.
func TestAuthorizationParamsMerged(t *testing.T) {
	f := newFakeOAuth2(t)
	env := oauthEnv(f)
	env["AUTH_ACME_AUTHORIZATION_PARAMS"] = "audience=https://api.example.com&prompt=consent"
	app := startProv(t, env)
	u, err := url.Parse(newProvBrowser(t).startSignIn(app, "acme", url.Values{"prompt": {"login"}}))
	if err != nil {
		t.Fatal(err)
	}
	if q := u.Query(); q.Get("audience") != "https://api.example.com" || q.Get("prompt") != "login" {
		t.Fatalf("authorize query = %v: want the default audience and the client's prompt", q)
	}
}

// TestAuthorizationParamsProtected: a protected parameter in
// AUTH_<ID>_AUTHORIZATION_PARAMS refuses to start, naming the variable.
func TestAuthorizationParamsProtected(t *testing.T) {
	f := newFakeOAuth2(t)
	env := oauthEnv(f)
	env["AUTH_ACME_AUTHORIZATION_PARAMS"] = "redirect_uri=https://evil.example/cb"
	_, err := provOptions(t, env, "http://127.0.0.1:3000")
	if err == nil || !strings.Contains(err.Error(), "AUTH_ACME_AUTHORIZATION_PARAMS") {
		t.Fatalf("err = %v, want a problem naming AUTH_ACME_AUTHORIZATION_PARAMS", err)
	}
}
