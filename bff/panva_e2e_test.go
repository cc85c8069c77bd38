package bff_test

import (
	"bufio"
	"context"
	"html"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"
)

// panvaDir is the fixture running panva's oidc-provider (npm ci there: .ci/deps).
const panvaDir = "testdata/oidcprovider"

// startPanva runs bff/testdata/oidcprovider/server.mjs with env and returns
// its issuer.
func startPanva(t *testing.T, env ...string) string {
	t.Helper()
	return runPanva(t, panvaDir, "server.mjs", env...)
}

// runPanva runs one of the oidc-provider scripts (script in dir, with
// OIDC_PROVIDER_DIR naming the npm install in panvaDir and PORT=0) and
// returns the issuer it prints as "listening <issuer>". Every panva test
// starts its provider here. A missing node or npm install is a failure
// (bash .ci/deps installs them), not a skip; -short skips.
func runPanva(t *testing.T, dir, script string, env ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Node and panva's oidc-provider (skipped by -short)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed (bash .ci/deps installs it): %v", err)
	}
	install, _ := filepath.Abs(panvaDir)
	if _, err := os.Stat(filepath.Join(install, "node_modules", "oidc-provider", "package.json")); err != nil {
		t.Fatalf("oidc-provider is not installed in %s: run bash .ci/deps (npm ci there): %v", install, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"PORT=0", "OIDC_PROVIDER_DIR=" + install}, env...)...)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start oidc-provider (%s): %v", script, err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		wg.Wait()
		if t.Failed() {
			t.Logf("oidc-provider (%s) stderr:\n%s", script, stderr.String())
		}
	})
	ready := make(chan string, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if iss, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				ready <- iss
			}
		}
		close(ready)
	}()
	select {
	case iss, ok := <-ready:
		if !ok {
			t.Fatalf("oidc-provider (%s) exited before listening:\n%s", script, stderr.String())
		}
		return iss
	case <-time.After(20 * time.Second):
		t.Fatalf("oidc-provider (%s) did not start:\n%s", script, stderr.String())
	}
	return ""
}

var (
	formRe = regexp.MustCompile(`(?s)<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>`)
	tagRe  = regexp.MustCompile(`<input[^>]*>`)
	attrRe = regexp.MustCompile(`(name|value)="([^"]*)"`)
)

// panvaForm reads the form of an oidc-provider devInteractions page: its
// action (relative to the page) and its fields as login would send them
// (login filled in, any password, the hidden fields as given).
func panvaForm(t testing.TB, page, login string) (*url.URL, url.Values) {
	t.Helper()
	m := formRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("oidc-provider page without a form: %s", page)
	}
	form := url.Values{}
	for _, tag := range tagRe.FindAllString(m[2], -1) {
		var name, value string
		for _, a := range attrRe.FindAllStringSubmatch(tag, -1) {
			if a[1] == "name" {
				name = a[2]
			} else {
				value = html.UnescapeString(a[2])
			}
		}
		switch name {
		case "":
		case "login":
			form.Set(name, login)
		case "password":
			form.Set(name, "any password")
		default:
			form.Set(name, value)
		}
	}
	action, _ := url.Parse(html.UnescapeString(m[1]))
	return action, form
}

// panvaInteract follows oidc-provider's devInteractions from the authorize
// URL - the login form (any login, any password), then the consent form -
// until it redirects to the app, and returns the app's answer to that
// redirect (the callback's).
func (b *browser) panvaInteract(appURL, authURL, login string) response {
	b.T.Helper()
	r := b.Get(authURL)
	var forms []string
	for range 12 {
		if r.StatusCode == 200 {
			action, form := panvaForm(b.T, r.Body, login)
			forms = append(forms, form.Get("prompt"))
			r = b.PostForm(r.Request.URL.ResolveReference(action).String(), form)
			continue
		}
		loc := location(b.T, r)
		if strings.HasPrefix(loc, appURL+"/") {
			if strings.Join(forms, ",") != "login,consent" {
				b.T.Errorf("oidc-provider showed the forms %v, want login then consent", forms)
			}
			return b.Get(loc)
		}
		r = b.Get(loc)
	}
	b.T.Fatalf("oidc-provider never redirected back (forms seen: %v)", forms)
	return response{}
}

// TestPanvaOIDCProvider (issue 12) signs a person in at panva's
// oidc-provider, a real third-party OpenID provider: ES256 ID tokens
// without profile claims (its default keeps them at userinfo), PKCE, the
// RFC 9207 iss parameter, its login and consent pages. session.user comes
// from userinfo and stays the same after a refresh.
func TestPanvaOIDCProvider(t *testing.T) {
	ln := listenLoopback(t)
	appURL := "http://" + ln.Addr().String()
	const clientID, secret = "authbff-e2e", "panva+client/secret="
	iss := startPanva(t, "CLIENT_ID="+clientID, "CLIENT_SECRET="+secret,
		"REDIRECT_URI="+appURL+"/api/auth/callback/panva", "ACCESS_TTL=30")
	env := map[string]string{
		"AUTH_PANVA_ISSUER": iss, "AUTH_PANVA_ID": clientID, "AUTH_PANVA_SECRET": secret,
		"NEXTAUTH_URL": appURL, "NEXTAUTH_SECRET": strings.Repeat("panva-e2e-", 4), "SESSION_STORE": "memory",
		"AUTH_FEDERATED_SIGNOUT": "0",
	}
	o, err := envOptions(t, env, ln)
	if err != nil {
		ln.Close()
		t.Fatalf("settings: %v", err)
	}
	o.Logger = textLogger(t, &lockedBuffer{})
	app := newTestServerOn(t, o, ln)

	b := newBrowser(t)
	authURL := b.StartSignIn(app.URL, "panva", "/home")
	if !strings.HasPrefix(authURL, iss+"/auth?") {
		t.Fatalf("authorize URL %s is not oidc-provider's", authURL)
	}
	cb := b.panvaInteract(app.URL, authURL, "alice")
	if loc := location(t, cb); loc != app.URL+"/home" {
		t.Fatalf("callback ended at %s", loc)
	}
	const name, email = "Panva alice", "alice@panva.example"
	if n, e := b.SessionUser(app.URL); n != name || e != email {
		t.Fatalf("session.user = %q <%s>, want %q <%s> (from userinfo)", n, e, name, email)
	}
	ctx := context.Background()
	s, err := core(app.BFF).Sessions().Load(ctx, b.sessionToken(app))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := jws.Parse([]byte(s.Data.Tokens.IDToken))
	if err != nil || len(msg.Signatures()) != 1 || msg.Signatures()[0].ProtectedHeaders().Algorithm().String() != "ES256" {
		t.Fatalf("the session's ID token is not an ES256 JWS (%v)", err)
	}
	if strings.Contains(string(msg.Payload()), email) {
		t.Fatalf("the ID token carries the profile: the userinfo path is not exercised: %s", msg.Payload())
	}
	if s.Data.Tokens.RefreshToken == "" {
		t.Fatal("oidc-provider issued no refresh token")
	}

	// 30 s access tokens are within the refresh margin: update() refreshes.
	r := b.PostForm(app.URL+"/api/auth/session", url.Values{"csrfToken": {b.CSRF(app.URL)}})
	if r.StatusCode != 200 {
		t.Fatalf("session update: %d %s", r.StatusCode, r.Body)
	}
	s2, err := core(app.BFF).Sessions().Load(ctx, b.sessionToken(app))
	if err != nil {
		t.Fatal(err)
	}
	if s2.Data.Tokens.AccessToken == s.Data.Tokens.AccessToken || s2.Data.RefreshError != "" {
		t.Fatalf("the update did not refresh (error %q)", s2.Data.RefreshError)
	}
	if got := b.Session(app.URL); got["refreshedAt"] == nil {
		t.Fatalf("session after refresh = %v", got)
	}
	if n, e := b.SessionUser(app.URL); n != name || e != email {
		t.Fatalf("after refresh session.user = %q <%s>, want %q <%s> as before", n, e, name, email)
	}
}
