package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/testclock"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

const (
	testClientID     = "client-123"
	testClientSecret = "s3cr+t/with=chars"
	testNonce        = "nonce-abc"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

type clock = testclock.Clock

// tokenReq is what the fake token endpoint saw.
type tokenReq struct {
	Form       url.Values
	AuthHeader string
	Path       string
}

// fakeOP is a Cognito-shaped OpenID provider on loopback HTTP that the
// test controls: discovery, JWKS, token, userInfo, revoke.
type fakeOP struct {
	t      *testing.T
	srv    *httptest.Server
	issuer string
	clock  *clock

	mu        sync.Mutex
	published []jwk.Key // public keys served at jwks_uri
	discMut   func(map[string]any)
	discFail  int // fail the next n discovery requests with 500
	token     http.HandlerFunc
	userinfo  http.HandlerFunc
	tokenReqs []tokenReq
	revokes   []tokenReq

	jwksHits, discHits, tokenHits, trapHits atomic.Int32
}

type signer struct {
	priv any    // *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey or []byte
	kid  string // "" means no kid header
	alg  jwa.SignatureAlgorithm
}

func newRSA(t *testing.T, kid string) (signer, jwk.Key) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.FromRaw(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	_ = pub.Set(jwk.KeyIDKey, kid)
	_ = pub.Set(jwk.AlgorithmKey, jwa.RS256)
	_ = pub.Set(jwk.KeyUsageKey, jwk.ForSignature)
	return signer{priv: k, kid: kid, alg: jwa.RS256}, pub
}

func newEC(t *testing.T, kid string) (signer, jwk.Key) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.FromRaw(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	_ = pub.Set(jwk.KeyIDKey, kid)
	return signer{priv: k, kid: kid, alg: jwa.ES256}, pub
}

// newSigner makes a key pair for any asymmetric alg; the published key
// names alg, kid and use=sig.
func newSigner(t *testing.T, alg jwa.SignatureAlgorithm, kid string) (signer, jwk.Key) {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jwa.RS256, jwa.RS384, jwa.RS512, jwa.PS256, jwa.PS384, jwa.PS512:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jwa.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jwa.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jwa.ES512:
		priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case jwa.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("newSigner: no key type for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.FromRaw(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	_ = pub.Set(jwk.KeyIDKey, kid)
	_ = pub.Set(jwk.AlgorithmKey, alg)
	_ = pub.Set(jwk.KeyUsageKey, jwk.ForSignature)
	return signer{priv: priv, kid: kid, alg: alg}, pub
}

func newFakeOP(t *testing.T, published ...jwk.Key) *fakeOP {
	t.Helper()
	op := &fakeOP{t: t, clock: testclock.New(t0), published: published}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pool/.well-known/openid-configuration", op.serveDiscovery)
	mux.HandleFunc("GET /pool/.well-known/jwks.json", op.serveJWKS)
	for _, prefix := range []string{"", "/ui"} {
		mux.HandleFunc("POST "+prefix+"/oauth2/token", op.serveToken)
		mux.HandleFunc("GET "+prefix+"/oauth2/userInfo", op.serveUserInfo)
		mux.HandleFunc("POST "+prefix+"/oauth2/revoke", op.serveRevoke)
	}
	mux.HandleFunc("/trap", func(w http.ResponseWriter, r *http.Request) {
		op.trapHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"stolen","token_type":"Bearer"}`))
	})
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	op.issuer = op.srv.URL + "/pool"
	return op
}

func (op *fakeOP) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	op.discHits.Add(1)
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.discFail > 0 {
		op.discFail--
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	base := op.srv.URL
	doc := map[string]any{
		"issuer":                                op.issuer,
		"authorization_endpoint":                base + "/oauth2/authorize",
		"token_endpoint":                        base + "/oauth2/token",
		"userinfo_endpoint":                     base + "/oauth2/userInfo",
		"revocation_endpoint":                   base + "/oauth2/revoke",
		"end_session_endpoint":                  base + "/logout",
		"jwks_uri":                              op.issuer + "/.well-known/jwks.json",
		"id_token_signing_alg_values_supported": []string{"RS256"},
	}
	if op.discMut != nil {
		op.discMut(doc)
	}
	writeJSON(w, http.StatusOK, doc)
}

func (op *fakeOP) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	op.jwksHits.Add(1)
	op.mu.Lock()
	set := jwk.NewSet()
	for _, k := range op.published {
		_ = set.AddKey(k)
	}
	op.mu.Unlock()
	writeJSON(w, http.StatusOK, set)
}

func (op *fakeOP) serveToken(w http.ResponseWriter, r *http.Request) {
	op.tokenHits.Add(1)
	if err := r.ParseForm(); err != nil {
		op.t.Errorf("token endpoint: parse form: %v", err)
	}
	op.mu.Lock()
	op.tokenReqs = append(op.tokenReqs, tokenReq{Form: r.PostForm, AuthHeader: r.Header.Get("Authorization"), Path: r.URL.Path})
	h := op.token
	op.mu.Unlock()
	if h == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	h(w, r)
}

func (op *fakeOP) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	h := op.userinfo
	op.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

func (op *fakeOP) serveRevoke(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	op.mu.Lock()
	op.revokes = append(op.revokes, tokenReq{Form: r.PostForm, AuthHeader: r.Header.Get("Authorization"), Path: r.URL.Path})
	op.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (op *fakeOP) setToken(h http.HandlerFunc) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.token = h
}

func (op *fakeOP) publish(keys ...jwk.Key) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.published = keys
}

func (op *fakeOP) lastTokenReq(t *testing.T) tokenReq {
	t.Helper()
	op.mu.Lock()
	defer op.mu.Unlock()
	if len(op.tokenReqs) == 0 {
		t.Fatal("token endpoint was not called")
	}
	return op.tokenReqs[len(op.tokenReqs)-1]
}

// claims returns valid Cognito ID token claims for the fake's issuer.
func (op *fakeOP) claims() map[string]any {
	now := op.clock.Now()
	return map[string]any{
		"iss":              op.issuer,
		"sub":              "user-1",
		"aud":              testClientID,
		"exp":              now.Add(time.Hour).Unix(),
		"iat":              now.Unix(),
		"auth_time":        now.Unix(),
		"nonce":            testNonce,
		"token_use":        "id",
		"email":            "ada@example.com",
		"email_verified":   true,
		"cognito:username": "ada",
		"cognito:groups":   []string{"admins", "users"},
	}
}

// sign makes a compact JWS of claims with s.
func sign(t *testing.T, s signer, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	hdr := jws.NewHeaders()
	if s.kid != "" {
		_ = hdr.Set(jws.KeyIDKey, s.kid)
	}
	_ = hdr.Set(jws.TypeKey, "JWT")
	out, err := jws.Sign(payload, jws.WithKey(s.alg, s.priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// unsigned makes an alg=none token.
func unsigned(t *testing.T, claims map[string]any) string {
	t.Helper()
	payload, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + "."
}

func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// tokenOK answers a token request with the given ID token.
func tokenOK(idToken string, extra map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		body := map[string]any{
			"access_token":  "access-1",
			"id_token":      idToken,
			"refresh_token": "refresh-1",
			"token_type":    "Bearer",
			"expires_in":    3600,
		}
		for k, v := range extra {
			if v == nil {
				delete(body, k)
			} else {
				body[k] = v
			}
		}
		writeJSON(w, http.StatusOK, body)
	}
}

// newProvider builds a Provider against op; mut adjusts the config.
func newProvider(t *testing.T, op *fakeOP, mut func(*Config)) *Provider {
	t.Helper()
	cfg := Config{
		ID:           "cognito",
		Issuer:       op.issuer,
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		RedirectURL:  "http://localhost:3000/api/auth/callback/cognito",
		Cognito:      true,
		Now:          op.clock.Now,
	}
	if mut != nil {
		mut(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}
