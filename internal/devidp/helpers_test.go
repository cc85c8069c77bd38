package devidp

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/testclock"
)

const (
	testClientID = "app"
	// testSecret has the characters that break naive Basic encoding.
	testSecret   = "s3cr+t/with=odd+chars"
	testCallback = "http://app.test/api/auth/callback/cognito"
	testLogout   = "http://app.test/"
	testPrefix   = "/_devidp"
)

type fakeClock = testclock.Clock

// env is one IdP served over loopback under testPrefix.
type env struct {
	idp   *IdP
	srv   *httptest.Server
	clock *fakeClock
	base  string // BaseURL
}

// newEnv starts an IdP with a confidential client "app", a public client
// "spa", a code-grant-less client "nocode" and a rotating client "rot".
func newEnv(t *testing.T, mutate func(*Options)) *env {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	clock := testclock.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	opts := Options{
		BaseURL: srv.URL + testPrefix,
		Clients: []Client{
			{ID: testClientID, Secret: testSecret, RedirectURIs: []string{testCallback}, LogoutURLs: []string{testLogout}},
			{ID: "spa", RedirectURIs: []string{testCallback}},
			{ID: "nocode", Secret: "x", RedirectURIs: []string{testCallback}, DisableCodeGrant: true},
			{ID: "rot", Secret: "r", RedirectURIs: []string{testCallback}, RotateRefreshTokens: true},
		},
		Now: clock.Now,
	}
	if mutate != nil {
		mutate(&opts)
	}
	idp, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h = idp
	return &env{idp: idp, srv: srv, clock: clock, base: opts.BaseURL}
}

// browser is a client with a cookie jar that does not follow redirects.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// pkce returns a verifier and its S256 challenge.
func pkce(seed string) (verifier, challenge string) {
	verifier = "verifier-" + seed + "-0123456789abcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authParams are valid authorize parameters for client with PKCE and nonce.
func authParams(client, challenge string) url.Values {
	return url.Values{
		"client_id": {client}, "redirect_uri": {testCallback}, "response_type": {"code"},
		"scope": {"openid email profile"}, "state": {"st-123"}, "nonce": {"n-456"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
}

// do sends a request and returns the response with its body read.
func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req)
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values, basicUser, basicPass string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(basicUser, basicPass)
	}
	return do(t, c, req)
}

// loginForm finds the login page's form for username and returns its action
// and fields, as a browser would submit them.
func loginForm(t *testing.T, page, username string) (string, url.Values) {
	t.Helper()
	formRe := regexp.MustCompile(`(?s)<form method="post" action="([^"]*)">(.*?)</form>`)
	inputRe := regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	for _, m := range formRe.FindAllStringSubmatch(page, -1) {
		fields := url.Values{}
		for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
			fields.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
		}
		if fields.Get("username") == username {
			return html.UnescapeString(m[1]), fields
		}
	}
	t.Fatalf("no login form for %q in page:\n%s", username, page)
	return "", nil
}

// callbackParams asserts a 302 to testCallback and returns its query.
func callbackParams(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status = %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testCallback {
		t.Fatalf("redirected to %q, want %q", got, testCallback)
	}
	return loc.Query()
}

// signIn runs authorize + the login page as username and returns the code.
func (e *env) signIn(t *testing.T, c *http.Client, params url.Values, username string) string {
	t.Helper()
	resp, page := get(t, c, e.base+"/oauth2/authorize?"+params.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authorize status = %d, body %s", resp.StatusCode, page)
	}
	action, fields := loginForm(t, page, username)
	resp, _ = postForm(t, c, action, fields, "", "")
	q := callbackParams(t, resp)
	if q.Get("state") != params.Get("state") {
		t.Fatalf("state = %q, want %q", q.Get("state"), params.Get("state"))
	}
	if q.Get("code") == "" {
		t.Fatalf("no code in callback: %v", q)
	}
	return q.Get("code")
}

// exchange posts a code grant with client_secret_post for the app client.
func (e *env) exchange(t *testing.T, code, verifier string) (int, map[string]any) {
	t.Helper()
	return e.tokenReq(t, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testCallback},
		"code_verifier": {verifier}, "client_id": {testClientID}, "client_secret": {testSecret},
	}, "", "")
}

// tokenReq posts to the token endpoint and decodes the JSON answer.
func (e *env) tokenReq(t *testing.T, form url.Values, basicUser, basicPass string) (int, map[string]any) {
	t.Helper()
	resp, body := postForm(t, http.DefaultClient, e.base+"/oauth2/token", form, basicUser, basicPass)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("token Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("token Cache-Control = %q", cc)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("token body %q: %v", body, err)
	}
	return resp.StatusCode, out
}

// wantOAuthError asserts a 400 with the given error code.
func wantOAuthError(t *testing.T, status int, body map[string]any, code string) {
	t.Helper()
	if status != http.StatusBadRequest || body["error"] != code {
		t.Fatalf("got %d %v, want 400 error=%s", status, body, code)
	}
}

// bearerGet calls path with an access token.
func (e *env) bearerGet(t *testing.T, path, token string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, body := do(t, http.DefaultClient, req)
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("%s body %q: %v", path, body, err)
	}
	return resp, out
}
