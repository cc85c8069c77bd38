package bff_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/authbff/authbff/internal/testkit"
	"github.com/authbff/authbff/internal/testkit/fakeop"
)

// TestUserInfoProfileKeptAcrossRefresh (issue 12): a provider whose ID
// tokens carry no name or email (only userinfo has them) signs a person in
// with that profile, and a refresh - with a refreshed ID token that has no
// profile either, or with no ID token at all - leaves session.user as it was.
func TestUserInfoProfileKeptAcrossRefresh(t *testing.T) {
	for _, tc := range []struct {
		name           string
		refreshIDToken bool
	}{
		{"refreshed ID token without profile", true},
		{"no ID token on refresh", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// 30s access tokens are inside the 60s refresh margin: the
			// first session update refreshes.
			op := fakeop.New(t, fakeop.Options{UserInfoProfile: true, RefreshIDToken: tc.refreshIDToken, AccessTTL: 30 * time.Second})
			app := startApp(t, op.Env("acme"))
			b := newBrowser(t)
			if loc := location(t, b.signInOP(app, "acme", "/home")); loc != app.URL+"/home" {
				t.Fatalf("sign-in ended at %s", loc)
			}
			name, email := b.SessionUser(app.URL)
			if name != op.Name || email != op.Email {
				t.Fatalf("after sign-in session.user = %q <%s>, want %q <%s> (from userinfo)", name, email, op.Name, op.Email)
			}
			if st := op.Snapshot(); st.UserInfo != 1 || st.RefreshGrants != 0 {
				t.Fatalf("after sign-in: %+v, want one userinfo call and no refresh", st)
			}
			// update() as next-auth/react sends it: POST /session with the CSRF token.
			r := b.PostForm(app.URL+"/api/auth/session", url.Values{"csrfToken": {b.CSRF(app.URL)}})
			if r.StatusCode != 200 {
				t.Fatalf("session update: %d %s", r.StatusCode, r.Body)
			}
			if st := op.Snapshot(); st.RefreshGrants != 1 {
				t.Fatalf("the session update did not refresh: %+v", st)
			}
			s := b.Session(app.URL)
			if s["refreshedAt"] == nil || s["error"] != nil {
				t.Fatalf("session after refresh = %v, want refreshedAt and no error", s)
			}
			if name, email := b.SessionUser(app.URL); name != op.Name || email != op.Email {
				t.Fatalf("after refresh session.user = %q <%s>, want %q <%s> as before", name, email, op.Name, op.Email)
			}
		})
	}
}

// TestNonRSAProviderSignsIn (issue 12): a provider whose discovery lists
// ES256 (or EdDSA) signs a person in with such ID tokens; an HS256 token
// keyed with the client secret, or an alg=none token, is refused even
// though discovery lists those algorithms too.
func TestNonRSAProviderSignsIn(t *testing.T) {
	for _, alg := range []jwa.SignatureAlgorithm{jwa.ES256, jwa.EdDSA} {
		t.Run(alg.String(), func(t *testing.T) {
			op := fakeop.New(t, fakeop.Options{Alg: alg, ListAlgs: []string{alg.String(), "HS256", "none"}})
			app := startApp(t, op.Env("acme"))
			cases := []struct {
				name   string
				mutate func(c map[string]any) string
				ok     bool
			}{
				{"signed " + alg.String(), nil, true},
				{"HS256 with the client secret", func(c map[string]any) string {
					return fakeop.SignWith(t, c, jwa.HS256, []byte(op.Secret))
				}, false},
				{"alg none", func(c map[string]any) string { return fakeop.Unsigned(c) }, false},
				{"same kid, key not published", func(c map[string]any) string {
					return fakeop.SignWith(t, c, alg, fakeop.NewSigningKey(t, alg, "op-"+strings.ToLower(alg.String())))
				}, false},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					op.SetMutate(tc.mutate)
					b := newBrowser(t)
					cb := b.signInOP(app, "acme", "/in")
					loc := location(t, cb)
					sc := cookieNamed(cb.Cookies(), "next-auth.session-token")
					if tc.ok {
						if loc != app.URL+"/in" || sc == nil {
							t.Fatalf("sign-in ended at %s, cookie %v", loc, sc)
						}
						if name, email := b.SessionUser(app.URL); name != op.Name || email != op.Email {
							t.Fatalf("session.user = %q <%s>", name, email)
						}
						return
					}
					if !strings.HasPrefix(loc, app.URL+"/api/auth/error?error=OAuthCallback") || sc != nil {
						t.Fatalf("refused token: ended at %s, cookie %v; want the OAuthCallback error and no session", loc, sc)
					}
					if s := b.Session(app.URL); s != nil {
						t.Fatalf("refused token: session %v", s)
					}
				})
			}
		})
	}
}

// TestGenericProviderWrongSecretPage (issue 12): a wrong AUTH_OKTA_SECRET
// (the token endpoint answers 401 invalid_client) leads to an error page
// that names AUTH_OKTA_SECRET and says nothing of Cognito.
func TestGenericProviderWrongSecretPage(t *testing.T) {
	op := fakeop.New(t, fakeop.Options{})
	app := startApp(t, op.Env("okta", "AUTH_OKTA_SECRET", "not-the-secret"))
	b := newBrowser(t)
	loc := location(t, b.signInOP(app, "okta", "/"))
	if q := testkit.MustQuery(t, loc); !strings.HasPrefix(loc, app.URL+"/api/auth/error?") ||
		q.Get("error") != "OAuthCallback" || q.Get("code") != "invalid_client" || q.Get("provider") != "okta" {
		t.Fatalf("callback redirected to %s, want the OAuthCallback error with invalid_client", loc)
	}
	if st := op.Snapshot(); st.TokenErrors != 1 || st.CodeGrants != 0 {
		t.Fatalf("token endpoint: %+v, want one invalid_client answer", st)
	}
	page := b.Get(loc)
	if page.StatusCode == 302 || page.StatusCode == 303 {
		page = b.Get(location(t, page))
	}
	if page.StatusCode != 200 {
		t.Fatalf("error page: %d %s", page.StatusCode, page.Body)
	}
	if !strings.Contains(page.Body, `id="diagnosis"`) || !strings.Contains(page.Body, "AUTH_OKTA_SECRET") || !strings.Contains(page.Body, "AUTH_OKTA_ID") {
		t.Errorf("the error page has no diagnosis naming AUTH_OKTA_SECRET and AUTH_OKTA_ID:\n%s", page.Body)
	}
	for _, bad := range []string{"Cognito", "COGNITO_", "fake op says"} {
		if strings.Contains(page.Body, bad) {
			t.Errorf("the error page of provider okta contains %q:\n%s", bad, page.Body)
		}
	}
	if b.Session(app.URL) != nil {
		t.Fatal("signed in despite invalid_client")
	}
}

// TestNoRefreshTokenAccessExpires (issue 12): a provider that issues no
// refresh token and a short-lived access token: once it expires the session
// says AccessTokenExpired and the proxy answers 401 access_token_expired
// without calling the upstream (nor the IdP).
func TestNoRefreshTokenAccessExpires(t *testing.T) {
	for _, onSession := range []string{"0", "1"} {
		t.Run("AUTH_REFRESH_ON_SESSION="+onSession, func(t *testing.T) {
			t.Parallel() // each waits for a token to expire
			const ttl = 2 * time.Second
			op := fakeop.New(t, fakeop.Options{NoRefreshToken: true, AccessTTL: ttl})
			up := newRecUpstream(t)
			app := startApp(t, op.Env("acme", "UPSTREAM_UP", up.srv.URL, "AUTH_REFRESH_ON_SESSION", onSession))
			b := newBrowser(t)
			signedIn := time.Now()
			if loc := location(t, b.signInOP(app, "acme", "/")); loc != app.URL+"/" {
				t.Fatalf("sign-in ended at %s", loc)
			}
			if s := b.Session(app.URL); s == nil || s["error"] != nil {
				t.Fatalf("fresh session = %v, want no error", s)
			}
			if r := b.ProxyGet(app.URL + "/api/proxy/up/x"); r.StatusCode != 200 || up.count() != 1 {
				t.Fatalf("proxy before expiry: %d %s (upstream calls %d)", r.StatusCode, r.Body, up.count())
			}
			time.Sleep(time.Until(signedIn.Add(ttl + 200*time.Millisecond)))
			s := b.Session(app.URL)
			if s == nil || s["error"] != "AccessTokenExpired" {
				t.Fatalf("session after expiry = %v, want error AccessTokenExpired", s)
			}
			if u, _ := s["user"].(map[string]any); u["name"] != op.Name {
				t.Fatalf("session after expiry lost its user: %v", s)
			}
			wantJSONError(t, b.ProxyGet(app.URL+"/api/proxy/up/x"), 401, "access_token_expired")
			if n := up.count(); n != 1 {
				t.Fatalf("the upstream was called %d times, want only the call before expiry", n)
			}
			if st := op.Snapshot(); st.RefreshGrants != 0 || st.TokenErrors != 0 {
				t.Fatalf("the IdP saw refresh attempts: %+v", st)
			}
		})
	}
}
