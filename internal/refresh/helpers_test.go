package refresh_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/refresh"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
	"github.com/authbff/authbff/internal/testclock"
	"github.com/authbff/authbff/internal/testkit/fakeop"
)

const (
	clientID = "app"
	secret   = "app-secret-0123456789"
	rotID    = "rot"
	callback = "http://127.0.0.1:3000/api/auth/callback/cognito"
	tSecret  = "test-secret-test-secret-test-secret-0123"
)

// idp is a real dev IdP on loopback behind a fakeop.Gate that counts
// refresh grants (Attempts) and can delay them (Delay), hold their answers
// back (Late, Held) or fail them like an outage (Down).
type idp struct {
	*devidp.IdP
	*fakeop.Gate
}

func newIdP(t *testing.T) *idp {
	t.Helper()
	g := fakeop.NewGate(t)
	p, err := devidp.New(devidp.Options{
		BaseURL: g.Srv.URL,
		Clients: []devidp.Client{
			{ID: clientID, Secret: secret, RedirectURIs: []string{callback}},
			{ID: rotID, Secret: secret, RedirectURIs: []string{callback}, RotateRefreshTokens: true},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	g.Serve(p)
	return &idp{IdP: p, Gate: g}
}

// provider is an OIDC client of f for client id.
func (f *idp) provider(t *testing.T, id string) *oidc.Provider {
	t.Helper()
	p, err := oidc.New(oidc.Config{
		ID: "cognito", Issuer: f.Issuer(), ClientID: id, ClientSecret: secret,
		RedirectURL: callback, Cognito: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	formRe  = regexp.MustCompile(`(?s)<form method="post" action="([^"]*)">(.*?)</form>`)
	inputRe = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// tokens signs username in through the hosted login page (a real code flow
// with PKCE) and returns the exchanged tokens and claims.
func (f *idp) tokens(t *testing.T, p *oidc.Provider, id, username string) *oidc.Result {
	t.Helper()
	ctx := context.Background()
	verifier := oidc.NewVerifier()
	authURL, err := p.AuthCodeURL(ctx, "state-1", "nonce-1", verifier, nil)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := httpBody(t, c, http.MethodGet, authURL, nil)
	for _, m := range formRe.FindAllStringSubmatch(page, -1) {
		form := url.Values{}
		for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
			form.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
		}
		if form.Get("username") != username {
			continue
		}
		resp, err := c.PostForm(html.UnescapeString(m[1]), form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		res, err := p.Exchange(ctx, loc.Query().Get("code"), verifier, "nonce-1")
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		return res
	}
	t.Fatalf("no login form for %s (client %s)", username, id)
	return nil
}

func httpBody(t *testing.T, c *http.Client, method, u string, body io.Reader) string {
	t.Helper()
	req, _ := http.NewRequest(method, u, body)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

type clock = testclock.Clock

// fixture is a session manager, a signed-in session and a coordinator.
type fixture struct {
	idp      *idp
	prov     *oidc.Provider
	clientID string
	issuer   string // expected session issuer; "" skips the check
	mgr      *session.Manager
	co       *refresh.Coordinator
	clock    *clock
	token    string
	sess     *session.Session
}

type fixtureOpts struct {
	client string // devidp client id; clientID by default
	store  session.Store
	locker refresh.Locker
	idp    *idp
}

// newFixture signs ada in and returns a coordinator whose margin (2h) makes
// every token due (the dev IdP's tokens live 1h).
func newFixture(t *testing.T, o fixtureOpts) *fixture {
	t.Helper()
	if o.client == "" {
		o.client = clientID
	}
	if o.store == nil {
		o.store = memstore.New(memstore.Options{})
	}
	if o.idp == nil {
		o.idp = newIdP(t)
	}
	f := &fixture{idp: o.idp, clientID: o.client, clock: testclock.New(time.Now())}
	f.prov = f.idp.provider(t, o.client)
	res := f.idp.tokens(t, f.prov, o.client, "ada")
	f.mgr = newManager(t, o.store, func(ctx context.Context, _, rt string) { _ = f.prov.Revoke(ctx, rt) })
	d := session.Data{
		Provider: "cognito", Issuer: res.Claims.Issuer, Subject: res.Claims.Subject,
		User: session.User{ID: res.Claims.Subject, Name: res.Claims.DisplayName(), Email: res.Claims.Email},
		Tokens: session.Tokens{
			IDToken: res.Tokens.IDToken, AccessToken: res.Tokens.AccessToken,
			RefreshToken: res.Tokens.RefreshToken, TokenType: "Bearer", AccessExpiry: res.Tokens.Expiry,
		},
	}
	var err error
	f.token, f.sess, err = f.mgr.Create(context.Background(), d, session.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	f.co = f.coordinator(t, f.mgr, o.locker)
	return f
}

// newManager is a session manager over st; revoke (optional) is its
// ManagerOptions.Revoke.
func newManager(t *testing.T, st session.Store, revoke ...func(ctx context.Context, provider, rt string)) *session.Manager {
	t.Helper()
	o := session.ManagerOptions{Store: st, Secrets: [][]byte{[]byte(tSecret)}}
	if len(revoke) > 0 {
		o.Revoke = revoke[0]
	}
	m, err := session.NewManager(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// coordinator makes a coordinator (one "instance") over mgr.
func (f *fixture) coordinator(t *testing.T, mgr *session.Manager, locker refresh.Locker) *refresh.Coordinator {
	t.Helper()
	co, err := refresh.New(refresh.Options{
		Sessions: mgr, Locker: locker, Margin: 2 * time.Hour, Now: f.clock.Now,
		Provider: func(id string) (refresh.Provider, bool) {
			return refresh.Provider{Client: f.prov, ClientID: f.clientID, Issuer: f.issuer}, id == "cognito"
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return co
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}
