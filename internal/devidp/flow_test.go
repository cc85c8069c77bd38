package devidp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

func TestDiscoveryAndJWKS(t *testing.T) {
	e := newEnv(t, nil)
	if want := e.base + "/us-east-1_authbffdev"; e.idp.Issuer() != want {
		t.Fatalf("Issuer() = %q, want %q", e.idp.Issuer(), want)
	}
	resp, body := get(t, http.DefaultClient, e.idp.Issuer()+"/.well-known/openid-configuration")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery status %d", resp.StatusCode)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"issuer":                 e.idp.Issuer(),
		"authorization_endpoint": e.base + "/oauth2/authorize",
		"token_endpoint":         e.base + "/oauth2/token",
		"userinfo_endpoint":      e.base + "/oauth2/userInfo",
		"revocation_endpoint":    e.base + "/oauth2/revoke",
		"end_session_endpoint":   e.base + "/logout",
		"jwks_uri":               e.idp.Issuer() + "/.well-known/jwks.json",
	} {
		if d[k] != want {
			t.Errorf("%s = %v, want %s", k, d[k], want)
		}
	}
	if _, ok := d["code_challenge_methods_supported"]; ok {
		t.Error("discovery lists code_challenge_methods_supported; Cognito does not")
	}
	if got, _ := json.Marshal(d["token_endpoint_auth_methods_supported"]); string(got) != `["client_secret_basic","client_secret_post"]` {
		t.Errorf("auth methods = %s", got)
	}

	set, err := jwk.Fetch(t.Context(), d["jwks_uri"].(string))
	if err != nil {
		t.Fatalf("fetch jwks: %v", err)
	}
	if set.Len() != 2 {
		t.Fatalf("jwks has %d keys, want 2", set.Len())
	}
	kids := map[string]bool{}
	for i := range set.Len() {
		k, _ := set.Key(i)
		kids[k.KeyID()] = true
		if k.Algorithm().String() != "RS256" || k.KeyUsage() != "sig" {
			t.Errorf("key %s: alg %s use %s", k.KeyID(), k.Algorithm(), k.KeyUsage())
		}
		if priv, _ := jwk.IsPrivateKey(k); priv {
			t.Error("jwks exposes a private key")
		}
	}
	if len(kids) != 2 {
		t.Fatalf("kids not distinct: %v", kids)
	}

	for _, u := range []string{
		e.base + "/oauth2/nope", e.base + "/", e.srv.URL + "/oauth2/authorize", e.srv.URL + "/_devidpx/login",
	} {
		if resp, _ := get(t, http.DefaultClient, u); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", u, resp.StatusCode)
		}
	}
}

// verifyJWT checks a token's signature against the served JWKS and returns
// it with its header kid.
func verifyJWT(t *testing.T, e *env, raw string) (jwt.Token, string) {
	t.Helper()
	set, err := jwk.Fetch(t.Context(), e.idp.Issuer()+"/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Parse([]byte(raw), jwt.WithKeySet(set), jwt.WithValidate(true),
		jwt.WithClock(jwt.ClockFunc(e.clock.Now)), jwt.WithIssuer(e.idp.Issuer()))
	if err != nil {
		t.Fatalf("verify jwt: %v", err)
	}
	msg, err := jws.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return tok, msg.Signatures()[0].ProtectedHeaders().KeyID()
}

func claim(t *testing.T, tok jwt.Token, name string) any {
	t.Helper()
	v, _ := tok.Get(name)
	return v
}

func TestCodeFlowPKCENonce(t *testing.T) {
	tests := []struct {
		user                     string
		wantName, wantPic        string
		wantGroups               bool
		wantGiven, wantFamilyStr string
	}{
		{user: "ada", wantName: "Ada Lovelace", wantPic: "https://", wantGroups: true, wantGiven: "Ada", wantFamilyStr: "Lovelace"},
		{user: "alan"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			e := newEnv(t, nil)
			c := browser(t)
			verifier, challenge := pkce(tt.user)
			code := e.signIn(t, c, authParams(testClientID, challenge), tt.user)
			authTime := e.clock.Now()
			e.clock.Advance(10 * time.Second)

			status, body := e.exchange(t, code, verifier)
			if status != http.StatusOK {
				t.Fatalf("exchange: %d %v", status, body)
			}
			if body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) || body["refresh_token"] == "" {
				t.Fatalf("token response %v", body)
			}
			if _, ok := body["scope"]; ok {
				t.Error("code response has scope; Cognito's has none")
			}
			id, idKID := verifyJWT(t, e, body["id_token"].(string))
			at, atKID := verifyJWT(t, e, body["access_token"].(string))
			if idKID == atKID || idKID == "" {
				t.Errorf("ID and access token kids = %q, %q; want two different kids", idKID, atKID)
			}
			if id.Audience()[0] != testClientID || len(id.Audience()) != 1 {
				t.Errorf("aud = %v", id.Audience())
			}
			if !id.Expiration().Equal(e.clock.Now().Add(time.Hour).Truncate(time.Second)) {
				t.Errorf("id exp = %v", id.Expiration())
			}
			for name, want := range map[string]any{
				"token_use": "id", "nonce": "n-456", "cognito:username": tt.user,
				"email": tt.user + "@example.com", "email_verified": true,
				"auth_time": float64(authTime.Unix()),
			} {
				if got := claim(t, id, name); got != want {
					t.Errorf("id %s = %#v, want %#v", name, got, want)
				}
			}
			if got, _ := claim(t, id, "name").(string); got != tt.wantName {
				t.Errorf("id name = %q, want %q", got, tt.wantName)
			}
			if got, _ := claim(t, id, "given_name").(string); got != tt.wantGiven {
				t.Errorf("given_name = %q", got)
			}
			if got, _ := claim(t, id, "picture").(string); !strings.HasPrefix(got, tt.wantPic) || (tt.wantPic == "") != (got == "") {
				t.Errorf("picture = %q", got)
			}
			if _, ok := id.Get("cognito:groups"); ok != tt.wantGroups {
				t.Errorf("id cognito:groups present = %v", ok)
			}
			if id.Subject() == "" || id.Subject() != at.Subject() {
				t.Errorf("sub id %q access %q", id.Subject(), at.Subject())
			}
			if _, ok := at.Get("aud"); ok {
				t.Error("access token has aud; Cognito's has client_id")
			}
			for name, want := range map[string]any{
				"token_use": "access", "client_id": testClientID, "username": tt.user,
				"scope": "openid email profile", "origin_jti": claim(t, id, "origin_jti"),
			} {
				if got := claim(t, at, name); got != want || got == nil {
					t.Errorf("access %s = %#v, want %#v", name, got, want)
				}
			}
			if at.JwtID() == "" || claim(t, id, "jti") == at.JwtID() {
				t.Errorf("jti missing or shared: %q", at.JwtID())
			}
			if g, ok := claim(t, at, "cognito:groups").([]any); tt.wantGroups && (!ok || g[0] != "admins") {
				t.Errorf("access cognito:groups = %v", g)
			}

			resp, info := e.bearerGet(t, "/oauth2/userInfo", body["access_token"].(string))
			if resp.StatusCode != http.StatusOK || info["email_verified"] != "true" || info["username"] != tt.user || info["sub"] != id.Subject() {
				t.Errorf("userInfo %d %v (email_verified must be the string \"true\")", resp.StatusCode, info)
			}
			resp, me := e.bearerGet(t, "/demo-api/me", body["access_token"].(string))
			if cl, _ := me["claims"].(map[string]any); resp.StatusCode != http.StatusOK || me["message"] != "Hello from the demo API" || cl["username"] != tt.user {
				t.Errorf("demo api %d %v", resp.StatusCode, me)
			}
			if st := e.idp.Stats(); st.CodeGrants != 1 || st.Authorizes != 1 || st.TokenErrors != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestSilentSSOAndPromptLogin(t *testing.T) {
	e := newEnv(t, nil)
	c := browser(t)
	_, challenge := pkce("sso")
	e.signIn(t, c, authParams(testClientID, challenge), "grace")

	params := authParams("spa", challenge)
	params.Set("state", "second")
	resp, _ := get(t, c, e.base+"/oauth2/authorize?"+params.Encode())
	q := callbackParams(t, resp)
	if q.Get("code") == "" || q.Get("state") != "second" {
		t.Fatalf("silent SSO callback %v", q)
	}

	params.Set("prompt", "login")
	resp, page := get(t, c, e.base+"/oauth2/authorize?"+params.Encode())
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `data-testid="login-ada"`) {
		t.Fatalf("prompt=login: %d, page shown = %v", resp.StatusCode, strings.Contains(page, "login-ada"))
	}
	if st := e.idp.Stats(); st.Authorizes != 3 {
		t.Errorf("Authorizes = %d, want 3", st.Authorizes)
	}

	// A fresh browser has no session: prompt=none answers login_required.
	params.Set("prompt", "none")
	resp, _ = get(t, browser(t), e.base+"/oauth2/authorize?"+params.Encode())
	if q := callbackParams(t, resp); q.Get("error") != "login_required" {
		t.Errorf("prompt=none without session: %v", q)
	}
	// The session lasts one hour.
	e.clock.Advance(61 * time.Minute)
	params.Del("prompt")
	if resp, _ := get(t, c, e.base+"/oauth2/authorize?"+params.Encode()); resp.StatusCode != http.StatusOK {
		t.Errorf("after session expiry status = %d, want the login page", resp.StatusCode)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	e := newEnv(t, nil)
	_, challenge := pkce("err")
	tests := []struct {
		name       string
		change     func(url.Values)
		wantStatus int
		wantPage   string // for pages: text on it
		wantError  string // for redirects: error param
	}{
		{"unknown client", func(v url.Values) { v.Set("client_id", "nope") }, 400, "invalid_client", ""},
		{"trailing slash redirect", func(v url.Values) { v.Set("redirect_uri", testCallback+"/") }, 400, "redirect_mismatch", ""},
		{"foreign redirect", func(v url.Values) { v.Set("redirect_uri", "https://evil.test/cb") }, 400, "redirect_mismatch", ""},
		{"implicit flow", func(v url.Values) { v.Set("response_type", "token") }, 302, "", "unsupported_response_type"},
		{"plain pkce", func(v url.Values) { v.Set("code_challenge_method", "plain") }, 302, "", "invalid_request"},
		{"method without challenge", func(v url.Values) { v.Del("code_challenge") }, 302, "", "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := authParams(testClientID, challenge)
			tt.change(v)
			resp, body := get(t, browser(t), e.base+"/oauth2/authorize?"+v.Encode())
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantPage != "" {
				if loc := resp.Header.Get("Location"); loc != "" {
					t.Fatalf("redirected to %q; must never redirect", loc)
				}
				if !strings.Contains(body, tt.wantPage) || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
					t.Fatalf("page lacks %q: %s", tt.wantPage, body)
				}
				return
			}
			q := callbackParams(t, resp)
			if q.Get("error") != tt.wantError || q.Get("state") != "st-123" || q.Get("code") != "" {
				t.Fatalf("callback %v, want error=%s with state", q, tt.wantError)
			}
		})
	}
}

func TestLoginPage(t *testing.T) {
	e := newEnv(t, nil)
	v := authParams(testClientID, "")
	v.Del("code_challenge_method")
	v.Set("state", `"><script>alert(1)</script>`)
	v.Set("lang", "fr")
	v.Set("identity_provider", "COGNITO")
	c := browser(t)
	resp, page := get(t, c, e.base+"/oauth2/authorize?"+v.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{
		"<title>authbff development IdP</title>", "development IdP - not for production",
		`data-testid="login-ada"`, "Sign in as Ada Lovelace", "Sign in as Grace Hopper",
		`data-testid="login-alan"`, "Sign in as alan", `lang="en"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Fatal("state was not escaped")
	}
	action, fields := loginForm(t, page, "alan")
	if action != e.base+"/login" || fields.Get("state") != v.Get("state") || fields.Get("nonce") != "n-456" {
		t.Fatalf("form %s %v", action, fields)
	}
	// Unknown user and a tampered redirect_uri are refused without redirect.
	for name, change := range map[string]func(url.Values){
		"unknown user":   func(f url.Values) { f.Set("username", "mallory") },
		"tampered uri":   func(f url.Values) { f.Set("redirect_uri", "https://evil.test/") },
		"unknown client": func(f url.Values) { f.Set("client_id", "x") },
	} {
		f := url.Values{}
		for k, vs := range fields {
			f[k] = vs
		}
		change(f)
		if resp, _ := postForm(t, c, action, f, "", ""); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: status %d location %q", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// Without a state the callback carries none.
	fields.Del("state")
	resp, _ = postForm(t, c, action, fields, "", "")
	if q := callbackParams(t, resp); q.Has("state") || q.Get("code") == "" {
		t.Fatalf("callback %v", q)
	}
	var ck *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == "devidp_session" {
			ck = k
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != testPrefix || ck.MaxAge != 3600 {
		t.Fatalf("session cookie %+v", ck)
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t, nil)
	c := browser(t)
	_, challenge := pkce("lo")
	params := authParams(testClientID, challenge)
	e.signIn(t, c, params, "ada")

	bad := url.Values{"client_id": {testClientID}, "logout_uri": {testLogout + "x"}}
	resp, body := get(t, c, e.base+"/logout?"+bad.Encode())
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, "sign-out URL") {
		t.Fatalf("unallowed logout_uri: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, c, e.base+"/oauth2/authorize?"+params.Encode()); resp.StatusCode != http.StatusFound {
		t.Fatalf("session must survive a refused logout; authorize = %d", resp.StatusCode)
	}

	good := url.Values{"client_id": {testClientID}, "logout_uri": {testLogout}, "state": {"ignored"}}
	resp, _ = get(t, c, e.base+"/logout?"+good.Encode())
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != testLogout {
		t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, c, e.base+"/oauth2/authorize?"+params.Encode()); resp.StatusCode != http.StatusOK {
		t.Fatalf("after logout authorize = %d, want the login page", resp.StatusCode)
	}
	if st := e.idp.Stats(); st.Logouts != 1 {
		t.Errorf("Logouts = %d", st.Logouts)
	}
}
