package bff_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// listenLoopback listens on a free loopback port.
func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// textLogger logs at info to w and to the test output.
func textLogger(t *testing.T, w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.MultiWriter(w, t.Output()), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// opOptions shape a fakeOP. Zero values: RS256, profile in the ID token,
// refresh tokens issued, one-hour access tokens.
type opOptions struct {
	// alg is the ID token signature algorithm: RS256, ES256 or EdDSA.
	alg jwa.SignatureAlgorithm
	// listAlgs is discovery's id_token_signing_alg_values_supported;
	// [alg] when nil.
	listAlgs []string
	// userInfoProfile keeps name and email out of every ID token: only
	// userinfo has them (panva's oidc-provider's default).
	userInfoProfile bool
	// noRefreshToken issues no refresh token.
	noRefreshToken bool
	// refreshIDToken makes the refresh grant return a new ID token too
	// (without nonce; with the profile only when userInfoProfile is false).
	refreshIDToken bool
	// accessTTL is the access tokens' expires_in (one hour when zero).
	accessTTL time.Duration
}

// opStats count what reached a fakeOP.
type opStats struct {
	codeGrants, refreshGrants, tokenErrors, userinfo int
}

// fakeOP is a standard (non-Cognito) OpenID provider at the root of a
// loopback server: discovery, an authorize endpoint that signs the user in
// at once, a token endpoint (client_secret_basic or _post, PKCE S256),
// userinfo and a JWKS with one key of opts.alg.
type fakeOP struct {
	t                *testing.T
	srv              *httptest.Server
	key              jwk.Key
	opts             opOptions
	clientID, secret string
	sub, name, email string

	mu      sync.Mutex
	codes   map[string]fakeCode
	access  map[string]bool // live access tokens
	refresh map[string]bool // live refresh tokens
	stats   opStats
	// Mutate, when set, edits the code grant's ID token claims; a non-empty
	// return is sent instead of a token signed with key.
	Mutate func(claims map[string]any) string
}

func newFakeOP(t *testing.T, opts opOptions) *fakeOP {
	t.Helper()
	if opts.alg == "" {
		opts.alg = jwa.RS256
	}
	if opts.listAlgs == nil {
		opts.listAlgs = []string{opts.alg.String()}
	}
	if opts.accessTTL == 0 {
		opts.accessTTL = time.Hour
	}
	f := &fakeOP{
		t: t, opts: opts, clientID: "op-client", secret: "op-s3cret+/=",
		sub: "op-user-7", name: "Hedy Lamarr", email: "hedy@example.org",
		codes: map[string]fakeCode{}, access: map[string]bool{}, refresh: map[string]bool{},
	}
	f.key = newSigningKey(t, opts.alg, "op-"+strings.ToLower(opts.alg.String()))
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	iss := f.srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
			"userinfo_endpoint": iss + "/userinfo", "jwks_uri": iss + "/jwks",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": opts.listAlgs, "code_challenge_methods_supported": []string{"S256"},
			"scopes_supported":                      []string{"openid", "profile", "email"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		pub, err := f.key.PublicKey()
		if err != nil {
			t.Error(err)
		}
		set := jwk.NewSet()
		_ = set.AddKey(pub)
		writeJSON(w, 200, set)
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" || q.Get("client_id") != f.clientID {
			http.Error(w, "bad authorize request", 400)
			return
		}
		code := randHex(16)
		f.mu.Lock()
		f.codes[code] = fakeCode{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
		f.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state"))+"&iss="+url.QueryEscape(iss), http.StatusFound)
	})
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("/userinfo", f.userinfo)
	return f
}

func (f *fakeOP) issuer() string { return f.srv.URL }

func (f *fakeOP) snapshot() opStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// env configures the fake as provider id through AUTH_<ID>_*.
func (f *fakeOP) env(id string, kv ...string) map[string]string {
	up := strings.ToUpper(id)
	env := map[string]string{
		"AUTH_" + up + "_ISSUER": f.issuer(), "AUTH_" + up + "_ID": f.clientID, "AUTH_" + up + "_SECRET": f.secret,
		"NEXTAUTH_URL": "auto", "NEXTAUTH_SECRET": strings.Repeat("e2e-secret-", 4), "SESSION_STORE": "memory",
		"AUTH_FEDERATED_SIGNOUT": "0",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

func (f *fakeOP) tokenError(w http.ResponseWriter, status int, code string) {
	f.mu.Lock()
	f.stats.tokenErrors++
	f.mu.Unlock()
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="fake-op"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": "fake op says " + code})
}

func (f *fakeOP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		f.tokenError(w, 400, "invalid_request")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != f.clientID || secret != f.secret {
		f.tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": f.issuer(), "sub": f.sub, "aud": f.clientID, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
	if !f.opts.userInfoProfile {
		claims["name"], claims["email"], claims["email_verified"] = f.name, f.email, true
	}
	resp := map[string]any{"token_type": "Bearer", "expires_in": int(f.opts.accessTTL / time.Second)}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		f.mu.Lock()
		c, ok := f.codes[r.PostForm.Get("code")]
		delete(f.codes, r.PostForm.Get("code"))
		f.mu.Unlock()
		if !ok || c.redirect != r.PostForm.Get("redirect_uri") || pkceS256(r.PostForm.Get("code_verifier")) != c.challenge {
			f.tokenError(w, 400, "invalid_grant")
			return
		}
		claims["nonce"] = c.nonce
		var idt string
		if f.Mutate != nil {
			idt = f.Mutate(claims)
		}
		if idt == "" {
			idt = f.sign(claims)
		}
		resp["id_token"] = idt
		f.mu.Lock()
		f.stats.codeGrants++
		f.mu.Unlock()
	case "refresh_token":
		f.mu.Lock()
		ok := f.refresh[r.PostForm.Get("refresh_token")]
		f.mu.Unlock()
		if !ok {
			f.tokenError(w, 400, "invalid_grant")
			return
		}
		if f.opts.refreshIDToken {
			resp["id_token"] = f.sign(claims)
		}
		f.mu.Lock()
		f.stats.refreshGrants++
		f.mu.Unlock()
	default:
		f.tokenError(w, 400, "unsupported_grant_type")
		return
	}
	at := "op-at-" + randHex(16)
	resp["access_token"] = at
	f.mu.Lock()
	f.access[at] = true
	if !f.opts.noRefreshToken {
		rt := "op-rt-" + randHex(16)
		f.refresh[rt] = true
		resp["refresh_token"] = rt
	}
	f.mu.Unlock()
	writeJSON(w, 200, resp)
}

func (f *fakeOP) userinfo(w http.ResponseWriter, r *http.Request) {
	at, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	ok := f.access[at]
	if ok {
		f.stats.userinfo++
	}
	f.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, 401, map[string]string{"error": "invalid_token"})
		return
	}
	writeJSON(w, 200, map[string]any{"sub": f.sub, "name": f.name, "email": f.email, "email_verified": true})
}

// sign signs claims with the published key.
func (f *fakeOP) sign(claims map[string]any) string {
	f.t.Helper()
	return signWith(f.t, claims, f.opts.alg, f.key)
}

// signWith signs claims as a compact JWT with alg and key (a jwk.Key or,
// for HS*, the raw []byte secret).
func signWith(t *testing.T, claims map[string]any, alg jwa.SignatureAlgorithm, key any) string {
	t.Helper()
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	b, err := jwt.Sign(tok, jwt.WithKey(alg, key))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newSigningKey makes a private JWK for alg (RS256, ES256 or EdDSA).
func newSigningKey(t *testing.T, alg jwa.SignatureAlgorithm, kid string) jwk.Key {
	t.Helper()
	var raw any
	switch alg {
	case jwa.RS256:
		return newRSAKey(t, kid)
	case jwa.ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		raw = k
	case jwa.EdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		raw = k
	default:
		t.Fatalf("no key for %s", alg)
	}
	k, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, kid)
	_ = k.Set(jwk.AlgorithmKey, alg)
	return k
}

// signInOP runs the v4 client's sign-in with provider id against a fake
// that signs the user in at once; it returns the callback's response.
func (b *browser) signInOP(app *testApp, id, callbackURL string) response {
	b.T.Helper()
	return b.SignIn(app.URL, id, callbackURL, "")
}
