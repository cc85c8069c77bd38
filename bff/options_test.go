package bff_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/devidp/devidptest"
)

const (
	testSecret = "0123456789abcdef0123456789abcdef"
	ldapAdmins = "cn=admins,ou=groups,dc=example,dc=com"
)

// groupsIdP serves a development IdP (Cognito-shaped, RS256) on a loopback
// port with two users: "ldap" in the group ldapAdmins, "plain" in the group
// "admins" only. Its one client accepts the callbacks of the given
// provider ids at base.
func groupsIdP(t *testing.T, base string, ids ...string) *devidp.IdP {
	t.Helper()
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	var cbs []string
	for _, id := range ids {
		cbs = append(cbs, base+"/api/auth/callback/"+id)
	}
	idp, err := devidp.New(devidp.Options{
		BaseURL: srv.URL,
		Clients: []devidp.Client{{ID: "app", Secret: "s3cret", RedirectURIs: cbs, LogoutURLs: []string{base}}},
		Users: []devidp.User{
			{Username: "ldap", Sub: "sub-ldap", Email: "ldap@example.com", Name: "Ldap", Groups: []string{ldapAdmins}},
			{Username: "plain", Sub: "sub-plain", Email: "plain@example.com", Name: "Plain", Groups: []string{"admins"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = idp
	return idp
}

// serve runs New(o) on a loopback port, o's URL set to it by fill, and
// returns the base URL.
func serve(t *testing.T, fill func(base string) bff.Options) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	o := fill(base)
	o.URL = base
	b, err := bff.New(context.Background(), o)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	srv := &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return base
}

// client is a browser: cookies kept, redirects not followed.
func client() *http.Client {
	cj, _ := cookiejar.New(nil)
	return &http.Client{Jar: cj, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signIn signs user in at base and reports whether the callback succeeded.
func signInOK(t *testing.T, c *http.Client, base, user string) bool {
	t.Helper()
	done, err := devidptest.SignIn(c, base, base+"/", user)
	if err != nil {
		t.Fatalf("sign-in of %s: %v", user, err)
	}
	loc := done.Header.Get("Location")
	return done.StatusCode == http.StatusFound && !strings.Contains(loc, "error")
}

// TestAllowedGroupsEntryIsOneGroup: an AllowedGroups entry holding commas
// (an LDAP DN) is one group. Before, Options went through
// AUTH_ALLOWED_GROUPS and came back as four groups.
func TestAllowedGroupsEntryIsOneGroup(t *testing.T) {
	base := serve(t, func(base string) bff.Options {
		idp := groupsIdP(t, base, "cognito")
		return bff.Options{
			Secrets: []string{testSecret}, Logger: slog.New(slog.DiscardHandler),
			Providers:     []bff.Provider{{Cognito: true, Issuer: idp.Issuer(), ClientID: "app", ClientSecret: "s3cret"}},
			AllowedGroups: []string{ldapAdmins},
		}
	})
	if !signInOK(t, client(), base, "ldap") {
		t.Error("a member of " + ldapAdmins + " was refused")
	}
	if signInOK(t, client(), base, "plain") {
		t.Error("a member of admins alone signed in: the DN was split into groups")
	}
}

// TestCognitoIDTokenAlgsHonoured: a Cognito provider's IDTokenAlgs decide
// which ID token signatures are accepted (the fake OP signs RS256). Before,
// they were dropped on the way through the environment.
func TestCognitoIDTokenAlgsHonoured(t *testing.T) {
	for _, tc := range []struct {
		algs []string
		ok   bool
	}{{[]string{"ES256"}, false}, {[]string{"rs256"}, true}} {
		base := serve(t, func(base string) bff.Options {
			idp := groupsIdP(t, base, "cognito")
			return bff.Options{
				Secrets: []string{testSecret}, Logger: slog.New(slog.DiscardHandler),
				Providers: []bff.Provider{{Cognito: true, Issuer: idp.Issuer(), ClientID: "app", ClientSecret: "s3cret",
					IDTokenAlgs: tc.algs}},
			}
		})
		if got := signInOK(t, client(), base, "plain"); got != tc.ok {
			t.Errorf("IDTokenAlgs %v: signed in %v, want %v", tc.algs, got, tc.ok)
		}
	}
}

// TestPreviousSecretWithCommaIsOneSecret: a session sealed under a secret
// holding a comma is read by a BFF that lists it as a previous secret, and
// secrets are used exactly as given (a trailing space is part of one).
func TestPreviousSecretWithCommaIsOneSecret(t *testing.T) {
	store, err := bff.OpenStore("memory")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	old := "old,secret,with,commas,0123456789abcdef "
	var idpIssuer string
	first := serve(t, func(base string) bff.Options {
		idp := groupsIdP(t, base, "cognito")
		idpIssuer = idp.Issuer()
		return bff.Options{Secrets: []string{old}, Store: store, Logger: slog.New(slog.DiscardHandler),
			Providers: []bff.Provider{{Cognito: true, Issuer: idp.Issuer(), ClientID: "app", ClientSecret: "s3cret"}}}
	})
	c := client()
	if !signInOK(t, c, first, "plain") {
		t.Fatal("sign-in failed")
	}
	for _, tc := range []struct {
		secrets []string
		want    bool
	}{
		{[]string{testSecret, old}, true},
		{[]string{testSecret, strings.TrimSpace(old)}, false},
	} {
		second := serve(t, func(string) bff.Options {
			return bff.Options{Secrets: tc.secrets, Store: store, Logger: slog.New(slog.DiscardHandler),
				Providers: []bff.Provider{{Cognito: true, Issuer: idpIssuer, ClientID: "app", ClientSecret: "s3cret"}}}
		})
		req, _ := http.NewRequest(http.MethodGet, second+"/api/auth/session", nil)
		for _, ck := range c.Jar.Cookies(mustURL(t, first)) {
			req.AddCookie(ck)
		}
		resp, err := client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var s map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&s)
		resp.Body.Close()
		if got := s["user"] != nil; got != tc.want {
			t.Errorf("secrets %q: session read %v, want %v (%v)", tc.secrets, got, tc.want, s)
		}
	}
}

// TestNewNamesFieldsNotVariables: New reports every problem at once, each
// by its field path, never by an environment variable.
func TestNewNamesFieldsNotVariables(t *testing.T) {
	_, err := bff.New(context.Background(), bff.Options{
		Secrets:   []string{"0123456789"},
		Providers: []bff.Provider{{ID: "my-idp", Issuer: "https://idp.example.com", ClientID: "x", ClientSecret: "y"}},
	})
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, want := range []string{`Providers[0].ID "my-idp": use a-z and 0-9`, "Secrets[0]: 10 bytes, need at least 32"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, env := range []string{"NEXTAUTH_SECRET", "AUTH_MY-IDP", "AUTH_MY_IDP", "AUTH_"} {
		if strings.Contains(msg, env) {
			t.Errorf("error names the variable %s:\n%s", env, msg)
		}
	}
	if n := len(strings.Split(msg, "\n")); n != 2 {
		t.Errorf("%d lines, want one per problem (2):\n%s", n, msg)
	}
}

// TestOptionsRules: each field's rule, one case each.
func TestOptionsRules(t *testing.T) {
	okta := []bff.Provider{{ID: "okta", Issuer: "https://idp.example.com", ClientID: "x", ClientSecret: "y"}}
	for _, tc := range []struct {
		name string
		o    bff.Options
		want string // "" accepted; else a part of the error
	}{
		{"negative max age", bff.Options{Providers: okta, SessionMaxAge: -1}, "SessionMaxAge -1ns is negative"},
		{"negative refresh margin", bff.Options{Providers: okta, RefreshMargin: -time.Second}, "RefreshMargin"},
		{"cache off", bff.Options{Providers: okta, SessionCacheTTL: -1}, ""},
		{"long cache with Redis", bff.Options{Providers: okta, StoreSpec: "redis://127.0.0.1:1/0", SessionCacheTTL: time.Hour}, "SessionCacheTTL"},
		{"untrimmed secret", bff.Options{Providers: okta, Secrets: []string{" " + testSecret[1:]}}, ""},
		{"short secret", bff.Options{Providers: okta, Secrets: []string{testSecret[1:]}}, "Secrets[0]: 31 bytes"},
		{"public URL without secret", bff.Options{Providers: okta, URL: "https://app.example.com"}, "Secrets is empty"},
		{"no provider", bff.Options{}, "Providers is empty"},
		{"dev IdP on a public URL", bff.Options{DevIdP: true, URL: "https://app.example.com", Secrets: []string{testSecret}}, "DevIdP is set, but URL"},
		{"flavor", bff.Options{Providers: okta, Flavor: "v6"}, `Flavor "v6"`},
		{"auth style", bff.Options{Providers: []bff.Provider{{ID: "okta", Issuer: "https://idp.example.com", ClientID: "x", AuthStyle: bff.AuthStyleBasic}}}, "Providers[0].AuthStyle"},
		{"HS256", bff.Options{Providers: []bff.Provider{{ID: "okta", Issuer: "https://idp.example.com", ClientID: "x", IDTokenAlgs: []string{"HS256"}}}}, "Providers[0].IDTokenAlgs[0]"},
		{"duplicate id", bff.Options{Providers: append(okta, okta[0])}, `Providers[1].ID "okta" is also Providers[0]'s`},
		{"upstream", bff.Options{Providers: okta, Upstreams: map[string]string{"api": "ftp://x"}}, `Upstreams["api"]`},
		{"protected path", bff.Options{Providers: okta, ProtectedPaths: []string{"admin"}}, "ProtectedPaths[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Logger = slog.New(slog.DiscardHandler)
			b, err := bff.New(context.Background(), tc.o)
			if err == nil {
				defer b.Close()
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted, want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

// TestCognitoKeepsItsID: a Cognito provider may have any id.
func TestCognitoKeepsItsID(t *testing.T) {
	base := serve(t, func(string) bff.Options {
		return bff.Options{Secrets: []string{testSecret}, Logger: slog.New(slog.DiscardHandler),
			Providers: []bff.Provider{{ID: "aws", Cognito: true, ClientID: "x",
				Issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC"}}}
	})
	resp, err := http.Get(base + "/api/auth/providers")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ps map[string]struct{ ID, Name, SigninURL string }
	if err := json.NewDecoder(resp.Body).Decode(&ps); err != nil {
		t.Fatal(err)
	}
	if p, ok := ps["aws"]; !ok || p.ID != "aws" || p.Name != "Cognito" || !strings.HasSuffix(p.SigninURL, "/signin/aws") {
		t.Fatalf("providers = %+v, want aws", ps)
	}
}

// TestZeroOptionsWriteNothing: without DataDir nothing is written to disk,
// the development IdP included (run in an empty working directory).
func TestZeroOptionsWriteNothing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	b, err := bff.New(context.Background(), bff.Options{DevIdP: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "*")); len(entries) > 0 {
		t.Fatalf("zero Options wrote %v", entries)
	}
}

// TestNewHonoursCtx: a done ctx fails New.
func TestNewHonoursCtx(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := bff.New(ctx, bff.Options{DevIdP: true, Logger: slog.New(slog.DiscardHandler)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("New with a cancelled ctx: %v", err)
	}
}

// TestProvidersWinOverDevIdP: OptionsFromEnv asks for the development IdP
// when the environment names no provider; a program that then fills
// Providers by hand gets its providers, and no development IdP.
func TestProvidersWinOverDevIdP(t *testing.T) {
	b, err := bff.New(context.Background(), bff.Options{
		URL: "http://localhost:3000", Secrets: []string{strings.Repeat("s", 32)}, DevIdP: true,
		Providers: []bff.Provider{{ID: "okta", Issuer: "https://idp.example.com", ClientID: "x", ClientSecret: "y"}},
	})
	if err != nil {
		t.Fatalf("New with DevIdP and Providers: %v", err)
	}
	defer b.Close()
	rec := httptest.NewRecorder()
	b.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://localhost:3000/api/auth/providers", nil))
	if body := rec.Body.String(); !strings.Contains(body, `"okta"`) || strings.Contains(body, `"cognito"`) {
		t.Fatalf("providers = %s, want okta only", body)
	}
	if b.DevIdPIssuer() != "" {
		t.Fatalf("the development IdP runs next to configured providers: %s", b.DevIdPIssuer())
	}
}
