package nextauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/devidp/devidptest"
	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
)

// jar is a browser's cookies as the core sees them: what the last answer
// set is what the next request sends.
type jar map[string]string

func (j jar) Get(name string) string { return j[name] }
func (j jar) Names() []string {
	var out []string
	for k := range j {
		out = append(out, k)
	}
	return out
}
func (j jar) Set(name, value string, _ time.Time) { j[name] = value }
func (j jar) Clear(name string)                   { delete(j, name) }

const appOrigin = "http://localhost:3999"

type fixture struct {
	core  *Core
	idp   *devidp.IdP
	store session.Store
}

// newFixture runs the core against the dev IdP (served by httptest: the
// IdP's HTTP, not authbff's) with a memory store.
func newFixture(t *testing.T, store session.Store) *fixture {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	u, _ := url.Parse(appOrigin)
	cfg := Settings{URL: u, BasePath: "/api/auth", Flavor: auth.FlavorV4, RefreshMargin: time.Minute}
	idp, err := devidp.New(devidp.Options{BaseURL: srv.URL, Clients: []devidp.Client{{
		ID: "app", Secret: "s3cret", RedirectURIs: []string{cfg.CallbackURL("cognito")}, LogoutURLs: []string{appOrigin},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = idp
	if store == nil {
		store = memstore.New(memstore.Options{})
	}
	secrets := [][]byte{[]byte(strings.Repeat("k", 32))}
	var core *Core // every end revokes through the core, as bff wires it
	mgr, err := session.NewManager(session.ManagerOptions{Store: store, Secrets: secrets, MaxAge: time.Hour, UpdateAge: time.Minute,
		Revoke: func(ctx context.Context, provider, rt string) { core.RevokeRefreshToken(ctx, provider, rt) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Close)
	core, err = New(Options{Settings: cfg, Secrets: secrets, Manager: mgr, Store: store, Providers: []Provider{{
		ID: "cognito", Name: "Cognito", Issuer: idp.Issuer(), ClientID: "app", ClientSecret: "s3cret", Cognito: true,
		Scopes: []string{"openid", "profile", "email"}, AuthStyle: oidc.AuthStylePost,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{core: core, idp: idp, store: store}
}

// login follows an authorization URL through the IdP's login form for
// user and returns the authorization response the IdP sent back.
func login(t *testing.T, authURL, user string) url.Values {
	t.Helper()
	cj, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: cj, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	action, form, err := devidptest.LoginForm(resp.Request.URL, string(body), user)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := hc.PostForm(action, form)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	loc, _ := url.Parse(r2.Header.Get("Location"))
	return loc.Query()
}

// signIn runs CSRF, StartSignIn, the IdP and Callback for one browser.
func (f *fixture) signIn(t *testing.T, j jar, callbackURL string) string {
	t.Helper()
	ctx := context.Background()
	r := &Request{Cookies: j, Query: url.Values{}}
	tok := f.core.CSRFToken(r)
	body := url.Values{"csrfToken": {tok}, "callbackUrl": {callbackURL}}
	if err := f.core.CheckForm(r, "signin", body, nil); err != nil {
		t.Fatalf("CheckForm: %v", err)
	}
	authURL, err := f.core.StartSignIn(ctx, r, "cognito", body)
	if err != nil {
		t.Fatalf("StartSignIn: %v", err)
	}
	to, err := f.core.Callback(ctx, &Request{Cookies: j, Query: url.Values{}}, "cognito", login(t, authURL, "ada"))
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	return to
}

func TestCoreJourney(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	j := jar{}
	if js, err := f.core.Session(ctx, &Request{Cookies: j}, false); err != nil || js != nil {
		t.Fatalf("no cookie: %s %v", js, err)
	}
	if to := f.signIn(t, j, "/protected"); to != appOrigin+"/protected" {
		t.Fatalf("callback led to %q", to)
	}
	if j[f.core.Names().Session] == "" {
		t.Fatal("no session cookie after the callback")
	}
	for name := range j {
		if strings.HasPrefix(name, f.core.Names().FlowPrefix) {
			t.Fatalf("flow cookie %s left after the callback", name)
		}
	}
	js, err := f.core.Session(ctx, &Request{Cookies: j}, false)
	if err != nil || !strings.Contains(string(js), `"name":"Ada Lovelace"`) || strings.Contains(string(js), "eyJ") {
		t.Fatalf("session: %s %v", js, err)
	}
	r := &Request{Cookies: j, Query: url.Values{}}
	body := url.Values{"csrfToken": {f.core.CSRFToken(r)}, "callbackUrl": {"/"}}
	to, err := f.core.SignOut(ctx, r, body)
	if err != nil || !strings.HasPrefix(to, f.idp.Issuer()[:strings.Index(f.idp.Issuer(), "/us-")]) {
		t.Fatalf("sign-out (federated for Cognito): %q %v", to, err)
	}
	if _, ok := j[f.core.Names().Session]; ok {
		t.Fatal("session cookie kept after sign-out")
	}
	// The Manager revokes in the background: wait for it (at most 5 s).
	for end := time.Now().Add(5 * time.Second); len(f.idp.RevokedRefreshTokens()) == 0 && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	if got := f.idp.RevokedRefreshTokens(); len(got) != 1 {
		t.Fatalf("revoked refresh tokens: %d, want 1", len(got))
	}
}

func TestCoreErrors(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	var e *Error

	r := &Request{Cookies: jar{}, Query: url.Values{}}
	err := f.core.CheckForm(r, "signin", url.Values{"csrfToken": {"forged"}}, nil)
	if !errors.As(err, &e) || e.Code != auth.ErrMissingCSRF || e.URL != appOrigin+"/api/auth/signin?csrf=true" {
		t.Fatalf("bad CSRF: %v", err)
	}
	r.Origin = "https://evil.example"
	tok := f.core.CSRFToken(r)
	if err := f.core.CheckForm(r, "signout", url.Values{"csrfToken": {tok}}, nil); !errors.As(err, &e) || e.URL != appOrigin+"/api/auth/signout?csrf=true" {
		t.Fatalf("cross-site POST with a good token: %v", err)
	}

	_, err = f.core.Callback(ctx, &Request{Cookies: jar{}, Query: url.Values{}}, "cognito", url.Values{"code": {"x"}, "state": {"y"}})
	if !errors.As(err, &e) || e.Code != auth.ErrOAuthCallback || !strings.Contains(e.URL, "/api/auth/error?error=OAuthCallback") {
		t.Fatalf("callback without a flow: %v", err)
	}
	_, err = f.core.Callback(ctx, &Request{Cookies: jar{}, Query: url.Values{}}, "cognito", url.Values{"error": {"access_denied"}, "state": {"y"}})
	if !errors.As(err, &e) || !strings.Contains(e.URL, "code=access_denied") {
		t.Fatalf("IdP error: %v", err)
	}

	// A replayed callback (same cookies, same response) is refused.
	j := jar{}
	r = &Request{Cookies: j, Query: url.Values{}}
	body := url.Values{"csrfToken": {f.core.CSRFToken(r)}}
	authURL, err := f.core.StartSignIn(ctx, r, "cognito", body)
	if err != nil {
		t.Fatal(err)
	}
	resp := login(t, authURL, "ada")
	kept := jar{}
	for k, v := range j {
		kept[k] = v
	}
	if _, err := f.core.Callback(ctx, &Request{Cookies: j, Query: url.Values{}}, "cognito", resp); err != nil {
		t.Fatal(err)
	}
	if _, err := f.core.Callback(ctx, &Request{Cookies: kept, Query: url.Values{}}, "cognito", resp); !errors.As(err, &e) || e.Code != auth.ErrOAuthCallback {
		t.Fatalf("replayed callback: %v", err)
	}
}

// downStore is a store whose every call fails as an outage.
type downStore struct{ session.Store }

func (downStore) Get(context.Context, string) (*session.Record, error) {
	return nil, session.ErrUnavailable
}

func TestCoreStoreOutageIsNotASignOut(t *testing.T) {
	f := newFixture(t, nil)
	j := jar{}
	f.signIn(t, j, "/")
	cookie := j[f.core.Names().Session]

	down := newFixture(t, downStore{memstore.New(memstore.Options{})})
	_, err := down.core.Session(context.Background(), &Request{Cookies: j}, false)
	if !IsUnavailable(err) {
		t.Fatalf("store down: %v, want Unavailable", err)
	}
	if j[f.core.Names().Session] != cookie {
		t.Fatal("an outage touched the session cookie")
	}
}
