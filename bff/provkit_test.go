package bff_test

// Test kit of the provider tests (providers_*_test.go): an authbff built
// from an environment map through the library (config.Load ->
// OptionsFromConfig -> bff.New) on a loopback listener, a cookie-jar
// browser driving NextAuth's sign-in as next-auth/react does, and a fake
// OpenID provider whose paths, issuers and ID token claims each test sets.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/bffhook"
	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/oidc"
)

// provLogs is a log sink safe for the server's goroutines.
type provLogs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *provLogs) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *provLogs) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// provApp is an authbff on loopback.
type provApp struct {
	URL  string
	Logs *provLogs
	BFF  *bff.BFF
}

// provOptions maps env (NEXTAUTH_URL is set to the listener's origin) to
// bff.Options as OptionsFromEnv does; the error is config's or the mapping's.
func provOptions(t *testing.T, env map[string]string, origin string) (bff.Options, error) {
	t.Helper()
	full := map[string]string{"NEXTAUTH_URL": origin, "NEXTAUTH_SECRET": strings.Repeat("s", 40), "AUTHBFF_DATA_DIR": t.TempDir()}
	for k, v := range env {
		full[k] = v
	}
	cfg, err := config.Load(config.FromMap(full, t.TempDir()))
	if err != nil {
		return bff.Options{}, err
	}
	o, err := bffhook.OptionsFromConfig(cfg)
	if err != nil {
		return bff.Options{}, err
	}
	return o.(bff.Options), nil
}

// startProv serves an authbff configured by env on a loopback port.
func startProv(t *testing.T, env map[string]string) *provApp {
	t.Helper()
	return startProvAs(t, env, "127.0.0.1")
}

// startProvAs is startProv with the public origin on host (localhost
// makes the app another site than fakes on 127.0.0.1, for a browser).
func startProvAs(t *testing.T, env map[string]string, host string) *provApp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	origin := "http://" + net.JoinHostPort(host, port)
	o, err := provOptions(t, env, origin)
	if err != nil {
		ln.Close()
		t.Fatalf("options: %v", err)
	}
	logs := &provLogs{}
	o.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(logs, t.Output()), nil))
	b, err := bff.New(context.Background(), o)
	if err != nil {
		ln.Close()
		t.Fatalf("bff.New: %v", err)
	}
	srv := &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		b.Close()
	})
	return &provApp{URL: origin, Logs: logs, BFF: b}
}

// provBrowser is a cookie-jar client that follows no redirects.
type provBrowser struct {
	t  *testing.T
	hc *http.Client
}

func newProvBrowser(t *testing.T) *provBrowser {
	jar, _ := cookiejar.New(nil)
	return &provBrowser{t: t, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *provBrowser) do(req *http.Request) (*http.Response, []byte) {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func (b *provBrowser) get(u string) (*http.Response, []byte) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

// startSignIn does what signIn(id, {callbackUrl}, params) of next-auth/react
// v4 does up to the IdP: csrf, then POST /signin/<id>?params with json=true.
// It returns the authorization URL.
func (b *provBrowser) startSignIn(app *provApp, id string, params url.Values) string {
	b.t.Helper()
	_, body := b.get(app.URL + "/api/auth/csrf")
	var csrf struct{ CSRFToken string }
	if err := json.Unmarshal(body, &csrf); err != nil || csrf.CSRFToken == "" {
		b.t.Fatalf("csrf: %s", body)
	}
	form := url.Values{"csrfToken": {csrf.CSRFToken}, "callbackUrl": {app.URL + "/account"}, "json": {"true"}}
	u := app.URL + "/api/auth/signin/" + id
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", app.URL)
	resp, body := b.do(req)
	var out struct{ URL string }
	if err := json.Unmarshal(body, &out); err != nil || out.URL == "" {
		b.t.Fatalf("signin/%s: %d %s", id, resp.StatusCode, body)
	}
	return out.URL
}

// signIn runs the whole flow: the IdP's authorize URL must redirect
// straight back (the fakes sign the user in at once); the callback's
// Location is returned.
func (b *provBrowser) signIn(app *provApp, id string, params url.Values) string {
	b.t.Helper()
	authURL := b.startSignIn(app, id, params)
	resp, _ := b.get(authURL)
	cb := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(cb, app.URL+"/api/auth/callback/") {
		b.t.Fatalf("authorize answered %d, Location %q", resp.StatusCode, cb)
	}
	resp, _ = b.get(cb)
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("callback answered %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// sessionUser returns GET /session's user (nil when signed out).
func (b *provBrowser) sessionUser(app *provApp) map[string]any {
	b.t.Helper()
	_, body := b.get(app.URL + "/api/auth/session")
	var s struct {
		User map[string]any `json:"user"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		b.t.Fatalf("session: %s", body)
	}
	return s.User
}

// wantError checks that a callback ended on the error URL with code, and
// nobody is signed in.
func wantError(t *testing.T, b *provBrowser, app *provApp, loc, code string) {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(loc, app.URL+"/api/auth/error") || u.Query().Get("error") != code {
		t.Fatalf("callback went to %q, want the error page with error=%s", loc, code)
	}
	if user := b.sessionUser(app); user != nil {
		t.Fatalf("signed in after a refused callback: %v", user)
	}
}

// provOP is an OpenID provider on loopback: discovery under IssuerPath,
// a JWKS, an authorize endpoint that signs the user in at once and a token
// endpoint issuing the ID token Claims makes.
type provOP struct {
	t   *testing.T
	srv *httptest.Server
	key jwk.Key
	// IssuerPath is the issuer's path ("" or "/common/v2.0").
	IssuerPath string
	// DiscoveryIssuer is discovery's issuer; "" is Issuer().
	DiscoveryIssuer string
	// AuthPath and TokenPath default to /authorize and /token.
	AuthPath, TokenPath string
	// AuthIss, when set, is sent as iss in the authorization response.
	AuthIss string
	// FormPost answers the authorization request as Apple does with
	// response_mode=form_post: a page of the OP's site that POSTs code,
	// state and FormUser (the "user" field) to the redirect URI.
	FormPost bool
	FormUser string
	// CheckClient, when set, checks the token request's form (client
	// authentication); false answers invalid_client.
	CheckClient func(form url.Values) bool

	mu sync.Mutex
	// Claims makes the ID token's claims for a code's nonce.
	Claims    func(nonce string) map[string]any
	codes     map[string]url.Values // code -> the authorize query
	AuthQuery url.Values            // the last authorize query
	Tokens    []url.Values          // the token requests' forms
}

func newProvOP(t *testing.T, setup func(op *provOP)) *provOP {
	t.Helper()
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := jwk.FromRaw(raw)
	_ = key.Set(jwk.KeyIDKey, "k1")
	_ = key.Set(jwk.AlgorithmKey, jwa.RS256)
	op := &provOP{t: t, key: key, AuthPath: "/authorize", TokenPath: "/token", codes: map[string]url.Values{}}
	if setup != nil {
		setup(op)
	}
	op.srv = httptest.NewServer(http.HandlerFunc(op.serve))
	t.Cleanup(op.srv.Close)
	return op
}

// Base is the server's origin; Issuer the issuer URL.
func (op *provOP) Base() string   { return op.srv.URL }
func (op *provOP) Issuer() string { return op.srv.URL + op.IssuerPath }

func (op *provOP) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case op.IssuerPath + "/.well-known/openid-configuration":
		iss := op.DiscoveryIssuer
		if iss == "" {
			iss = op.Issuer()
		}
		writeJSON(w, map[string]any{
			"issuer": iss, "authorization_endpoint": op.Base() + op.AuthPath, "token_endpoint": op.Base() + op.TokenPath,
			"jwks_uri": op.Base() + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	case "/jwks":
		pub, _ := jwk.PublicKeyOf(op.key)
		set := jwk.NewSet()
		_ = set.AddKey(pub)
		writeJSON(w, set)
	case op.AuthPath:
		q := r.URL.Query()
		code := oidc.RandomString(16)
		op.mu.Lock()
		op.AuthQuery, op.codes[code] = q, q
		op.mu.Unlock()
		back := url.Values{"code": {code}, "state": {q.Get("state")}}
		if op.AuthIss != "" {
			back.Set("iss", op.AuthIss)
		}
		if op.FormPost {
			back.Set("user", op.FormUser)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html><body><form id="f" method="POST" action="%s">`, template.HTMLEscapeString(q.Get("redirect_uri")))
			for k := range back {
				fmt.Fprintf(w, `<input type="hidden" name="%s" value="%s">`, template.HTMLEscapeString(k), template.HTMLEscapeString(back.Get(k)))
			}
			io.WriteString(w, `</form><script>document.getElementById("f").submit()</script></body></html>`)
			return
		}
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
	case op.TokenPath:
		_ = r.ParseForm()
		op.mu.Lock()
		op.Tokens = append(op.Tokens, r.PostForm)
		aq, ok := op.codes[r.PostForm.Get("code")]
		delete(op.codes, r.PostForm.Get("code"))
		claims, check := op.Claims, op.CheckClient
		op.mu.Unlock()
		if check != nil && !check(r.PostForm) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		if !ok || oidc.PKCEChallenge(r.PostForm.Get("code_verifier")) != aq.Get("code_challenge") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		writeJSON(w, map[string]any{"access_token": "at-" + oidc.RandomString(8), "token_type": "Bearer",
			"expires_in": 3600, "id_token": op.sign(claims(aq.Get("nonce")))})
	default:
		http.NotFound(w, r)
	}
}

// sign makes a compact RS256 JWS of claims.
func (op *provOP) sign(claims map[string]any) string {
	payload, _ := json.Marshal(claims)
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, "k1")
	out, err := jws.Sign(payload, jws.WithKey(jwa.RS256, op.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		op.t.Fatal(err)
	}
	return string(out)
}

// idClaims are a valid ID token's claims for client clientID.
func idClaims(iss, sub, clientID, nonce string, extra map[string]any) map[string]any {
	now := time.Now().Unix()
	c := map[string]any{"iss": iss, "sub": sub, "aud": clientID, "iat": now, "exp": now + 300, "nonce": nonce}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		panic(fmt.Sprint(err))
	}
}

// newBFF runs bff.New on o, closing what it made.
func newBFF(o bff.Options) (*bff.BFF, error) {
	b, err := bff.New(context.Background(), o)
	if err == nil {
		b.Close()
	}
	return b, err
}
