package bff_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/authbff/authbff/internal/oidc"
)

// fakeGitHub is a GitHub Enterprise Server as GitHub documents its OAuth
// app flow: /login/oauth/authorize, /login/oauth/access_token answering
// form-encoded unless asked for JSON and reporting errors with status 200,
// and the REST API under /api/v3 (/user with the public e-mail, null when
// private; /user/emails listing every address with primary and verified).
type fakeGitHub struct {
	srv *httptest.Server

	mu sync.Mutex
	// TokenError, when set, is the error the token endpoint answers (200).
	TokenError string
	// ExpiresIn > 0 answers as a GitHub App with expiring user tokens:
	// expires_in and a refresh_token (ghr_...), redeemable once.
	ExpiresIn int
	// User is /user's answer; Emails /user/emails'.
	User   map[string]any
	Emails []map[string]any
	// AuthQuery is the last authorize query; TokenReqs the token calls.
	AuthQuery  url.Values
	TokenReqs  []*http.Request
	TokenForms []url.Values
	APIReqs    []*http.Request
	codes      map[string]url.Values
	tokens     map[string]bool
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	g := &fakeGitHub{codes: map[string]url.Values{}, tokens: map[string]bool{},
		User: map[string]any{"id": 583231, "login": "octocat", "name": nil, "email": nil,
			"avatar_url": "https://avatars.example.com/u/583231"},
		Emails: []map[string]any{
			{"email": "octo@unverified.example", "primary": true, "verified": false, "visibility": "private"},
			{"email": "octocat@example.com", "primary": false, "verified": true, "visibility": nil},
		},
	}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch r.URL.Path {
	case "/login/oauth/authorize":
		q := r.URL.Query()
		code := oidc.RandomString(10)
		g.AuthQuery, g.codes[code] = q, q
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	case "/login/oauth/access_token":
		_ = r.ParseForm()
		g.TokenReqs, g.TokenForms = append(g.TokenReqs, r), append(g.TokenForms, r.PostForm)
		aq, ok := g.codes[r.PostForm.Get("code")]
		delete(g.codes, r.PostForm.Get("code"))
		if rt := r.PostForm.Get("refresh_token"); r.PostForm.Get("grant_type") == "refresh_token" {
			ok = g.tokens[rt]
			delete(g.tokens, rt)
			aq = url.Values{"code_challenge": {oidc.PKCEChallenge(r.PostForm.Get("code_verifier"))}}
		}
		var ans url.Values
		switch {
		case g.TokenError != "":
			ans = url.Values{"error": {g.TokenError}, "error_description": {"The code passed is incorrect or expired."},
				"error_uri": {"https://docs.github.com/apps/troubleshooting"}}
		case !ok || r.PostForm.Get("client_id") != "ghid" || r.PostForm.Get("client_secret") != "ghsecret" ||
			oidc.PKCEChallenge(r.PostForm.Get("code_verifier")) != aq.Get("code_challenge"):
			ans = url.Values{"error": {"bad_verification_code"}}
		default:
			tok := "gho_" + oidc.RandomString(12)
			g.tokens[tok] = true
			ans = url.Values{"access_token": {tok}, "scope": {"read:user,user:email"}, "token_type": {"bearer"}}
			if g.ExpiresIn > 0 {
				rt := "ghr_" + oidc.RandomString(12)
				g.tokens[rt] = true
				ans.Set("expires_in", fmt.Sprint(g.ExpiresIn))
				ans.Set("refresh_token", rt)
				ans.Set("refresh_token_expires_in", "15897600")
			}
		}
		// GitHub answers 200 in every case, form-encoded unless asked for JSON.
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			m := map[string]string{}
			for k := range ans {
				m[k] = ans.Get(k)
			}
			writeJSON(w, m)
			return
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		io.WriteString(w, ans.Encode())
	case "/api/v3/user", "/api/v3/user/emails":
		g.APIReqs = append(g.APIReqs, r)
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !g.tokens[tok] || r.Header.Get("User-Agent") == "" {
			w.WriteHeader(http.StatusForbidden) // GitHub refuses API calls without a User-Agent
			return
		}
		if r.URL.Path == "/api/v3/user" {
			writeJSON(w, g.User)
		} else {
			writeJSON(w, g.Emails)
		}
	default:
		http.NotFound(w, r)
	}
}

func githubEnv(g *fakeGitHub) map[string]string {
	return map[string]string{"AUTH_GITHUB_ID": "ghid", "AUTH_GITHUB_SECRET": "ghsecret", "AUTH_GITHUB_ENTERPRISE_URL": g.srv.URL}
}

// TestGitHubSignsInWithVerifiedEmail: AUTH_GITHUB_* with an Enterprise URL;
// /user has no e-mail and no name, /user/emails lists an unverified
// primary-looking address first: the session shows the verified address
// and the login as name, the numeric id as sub, the avatar as image.
func TestGitHubSignsInWithVerifiedEmail(t *testing.T) {
	g := newFakeGitHub(t)
	app := startProv(t, githubEnv(g))
	b := newProvBrowser(t)
	loc := b.signIn(app, "github", nil)
	if loc != app.URL+"/account" {
		t.Fatalf("callback went to %q, want the callbackUrl", loc)
	}
	user := b.sessionUser(app)
	if user["email"] != "octocat@example.com" || user["name"] != "octocat" || user["image"] != "https://avatars.example.com/u/583231" {
		t.Fatalf("session user = %v, want the verified e-mail, the login as name and the avatar", user)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	q := g.AuthQuery
	if q.Get("scope") != "read:user user:email" || q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || q.Has("nonce") {
		t.Errorf("authorize query = %v: want scope read:user user:email, state, PKCE S256, no nonce", q)
	}
	if got := g.TokenReqs[0].Header.Get("Accept"); got != "application/json" {
		t.Errorf("token call Accept = %q, want application/json", got)
	}
	for _, r := range g.APIReqs {
		if r.Header.Get("User-Agent") == "" {
			t.Errorf("%s without a User-Agent", r.URL.Path)
		}
	}
}

// TestGitHubNeverUsesAnUnverifiedEmail: with only an unverified address,
// the session has no e-mail, and AUTH_ALLOWED_EMAIL_DOMAINS naming that
// address's domain refuses the sign-in.
func TestGitHubNeverUsesAnUnverifiedEmail(t *testing.T) {
	g := newFakeGitHub(t)
	g.Emails = g.Emails[:1]
	app := startProv(t, githubEnv(g))
	b := newProvBrowser(t)
	b.signIn(app, "github", nil)
	if user := b.sessionUser(app); user == nil || user["email"] != nil {
		t.Fatalf("session user = %v, want signed in without an e-mail", user)
	}

	env := githubEnv(g)
	env["AUTH_ALLOWED_EMAIL_DOMAINS"] = "unverified.example"
	app = startProv(t, env)
	b = newProvBrowser(t)
	wantError(t, b, app, b.signIn(app, "github", nil), "AccessDenied")
}

// TestGitHubPublicEmailFromUser: a public e-mail on /user is used (and
// counts as verified when /user/emails says so).
func TestGitHubPublicEmailFromUser(t *testing.T) {
	g := newFakeGitHub(t)
	g.User["email"], g.User["name"] = "octocat@example.com", "The Octocat"
	env := githubEnv(g)
	env["AUTH_ALLOWED_EMAIL_DOMAINS"] = "example.com"
	app := startProv(t, env)
	b := newProvBrowser(t)
	b.signIn(app, "github", nil)
	if user := b.sessionUser(app); user["email"] != "octocat@example.com" || user["name"] != "The Octocat" {
		t.Fatalf("session user = %v", user)
	}
}

// TestGitHubTokenErrorWith200: the token endpoint answers
// error=bad_verification_code with status 200 (form-encoded, as GitHub
// does): the callback ends on the error page with OAuthCallback and nobody
// is signed in.
func TestGitHubTokenErrorWith200(t *testing.T) {
	g := newFakeGitHub(t)
	g.TokenError = "bad_verification_code"
	app := startProv(t, githubEnv(g))
	b := newProvBrowser(t)
	loc := b.signIn(app, "github", nil)
	wantError(t, b, app, loc, "OAuthCallback")
	if u, _ := url.Parse(loc); u.Query().Get("code") != "bad_verification_code" {
		t.Errorf("error URL %q does not carry GitHub's code", loc)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.APIReqs) != 0 {
		t.Errorf("the API was called after a refused token call")
	}
}

// TestGitHubFormEncodedTokenAnswer: a GitHub that ignores Accept and
// answers form-encoded still signs in (GitHub's default answer).
func TestGitHubFormEncodedTokenAnswer(t *testing.T) {
	g := newFakeGitHub(t)
	inner := g.srv.Config.Handler
	g.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Accept")
		inner.ServeHTTP(w, r)
	})
	app := startProv(t, githubEnv(g))
	b := newProvBrowser(t)
	b.signIn(app, "github", nil)
	if user := b.sessionUser(app); user["email"] != "octocat@example.com" {
		t.Fatalf("session user = %v", user)
	}
}

// TestGitHubProvidersListing: GET /providers lists github with type oauth
// and absolute URLs (v4 and v5).
func TestGitHubProvidersListing(t *testing.T) {
	g := newFakeGitHub(t)
	for _, flavor := range []string{"v4", "v5"} {
		env := githubEnv(g)
		env["AUTH_CLIENT_FLAVOR"] = flavor
		app := startProv(t, env)
		_, body := newProvBrowser(t).get(app.URL + "/api/auth/providers")
		var got map[string]map[string]string
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"id": "github", "name": "GitHub", "type": "oauth",
			"signinUrl": app.URL + "/api/auth/signin/github", "callbackUrl": app.URL + "/api/auth/callback/github"}
		for k, v := range want {
			if got["github"][k] != v {
				t.Errorf("%s: providers.github.%s = %q, want %q", flavor, k, got["github"][k], v)
			}
		}
	}
}

// TestGitHubAppTokensRefreshed: a GitHub App's expiring user token
// (expires_in + refresh_token) is refreshed like any other before a
// proxied call, which carries the new token.
func TestGitHubAppTokensRefreshed(t *testing.T) {
	g := newFakeGitHub(t)
	g.ExpiresIn = 30 // inside the refresh margin: due at once
	var seen []string
	var mu sync.Mutex
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		writeJSON(w, map[string]any{"ok": true})
	}))
	t.Cleanup(api.Close)
	env := githubEnv(g)
	env["UPSTREAM_API"] = api.URL
	app := startProv(t, env)
	b := newProvBrowser(t)
	b.signIn(app, "github", nil)
	g.mu.Lock()
	first := len(g.TokenForms)
	g.mu.Unlock()
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/proxy/api/repos", nil)
	req.Header.Set("X-CSRF", "1")
	req.Header.Set("Origin", app.URL)
	if resp, body := b.do(req); resp.StatusCode != http.StatusOK {
		t.Fatalf("proxy answered %d %s", resp.StatusCode, body)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.TokenForms) != first+1 || g.TokenForms[first].Get("grant_type") != "refresh_token" {
		t.Fatalf("token calls after sign-in: %v, want one refresh", g.TokenForms[first:])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || !strings.HasPrefix(seen[0], "Bearer gho_") {
		t.Fatalf("upstream saw %v", seen)
	}
}
