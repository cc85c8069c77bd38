package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

func pemKey(t *testing.T, k any, pkcs1 bool) string {
	t.Helper()
	if pkcs1 {
		return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.(*rsa.PrivateKey))}))
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func TestParseClientKeys(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	keys, err := ParseClientKeys([]byte(pemKey(t, ec, false)+pemKey(t, rk, true)), "now")
	if err != nil || len(keys) != 2 || keys[0].KeyID != "now" || keys[1].KeyID == "" || keys[1].KeyID == "now" {
		t.Fatalf("keys = %+v, %v", keys, err)
	}
	if keyAlg(keys[0].Key) != jwa.ES256 || keyAlg(keys[1].Key) != jwa.RS256 {
		t.Fatalf("algs %s %s", keyAlg(keys[0].Key), keyAlg(keys[1].Key))
	}
	set, err := PublicJWKS(keys)
	if err != nil || strings.Contains(string(set), `"d":`) {
		t.Fatalf("jwks %s %v", set, err)
	}
	for _, bad := range []string{"", "not pem", pemKey(t, small, false)} {
		if _, err := ParseClientKeys([]byte(bad), ""); err == nil {
			t.Errorf("ParseClientKeys(%.20q) accepted", bad)
		}
	}
}

// parOP is a PAR endpoint beside a fakeOP.
type parOP struct {
	mu    sync.Mutex
	forms []url.Values
	srv   *httptest.Server
}

func newPAROP(t *testing.T, op *fakeOP, require bool) *parOP {
	po := &parOP{}
	po.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		po.mu.Lock()
		po.forms = append(po.forms, r.PostForm)
		po.mu.Unlock()
		writeJSON(w, http.StatusCreated, map[string]any{"request_uri": "urn:ietf:params:oauth:request_uri:abc", "expires_in": 60})
	}))
	t.Cleanup(po.srv.Close)
	op.discMut = func(doc map[string]any) {
		doc["pushed_authorization_request_endpoint"] = po.srv.URL + "/par"
		doc["require_pushed_authorization_requests"] = require
	}
	return po
}

func TestPrivateKeyJWTAndPAR(t *testing.T) {
	s, pub := newRSA(t, "k1")
	op := newFakeOP(t, pub)
	op.setToken(tokenOK(sign(t, s, op.claims()), nil))
	po := newPAROP(t, op, true)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := newProvider(t, op, func(c *Config) {
		c.Cognito, c.ClientSecret = false, ""
		c.AuthStyle = AuthStylePrivateKeyJWT
		c.ClientKeys = []ClientKey{{KeyID: "ck", Key: ec}}
	})
	ctx := context.Background()
	verifier := strings.Repeat("v", 43)
	raw, err := p.AuthCodeURL(ctx, "state-1", testNonce, verifier, url.Values{"acr_values": {"urn:mfa"}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	var keys []string
	for k := range u.Query() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"client_id", "request_uri"}) {
		t.Fatalf("authorize URL carries %v: %s", keys, raw)
	}
	pf := po.forms[0]
	if pf.Get("acr_values") != "urn:mfa" || pf.Get("state") != "state-1" || pf.Get("code_challenge") == "" || pf.Get("client_secret") != "" {
		t.Fatalf("PAR form %v", pf)
	}
	pubKey, _ := jwk.FromRaw(ec.Public())
	check := func(what string, f url.Values) string {
		t.Helper()
		if f.Get("client_assertion_type") != ClientAssertionType || f.Has("client_secret") {
			t.Fatalf("%s: form %v", what, f)
		}
		tok, err := jwt.Parse([]byte(f.Get("client_assertion")), jwt.WithKey(jwa.ES256, pubKey), jwt.WithValidate(false))
		if err != nil || tok.Issuer() != testClientID || tok.Subject() != testClientID || !slices.Equal(tok.Audience(), []string{op.issuer}) || tok.JwtID() == "" {
			t.Fatalf("%s: assertion %v %v", what, tok, err)
		}
		return tok.JwtID()
	}
	jtis := []string{check("par", pf)}
	if _, err := p.Exchange(ctx, "code", verifier, testNonce); err != nil {
		t.Fatal(err)
	}
	if h := op.lastTokenReq(t).AuthHeader; h != "" {
		t.Fatalf("token request Authorization %q", h)
	}
	jtis = append(jtis, check("code", op.lastTokenReq(t).Form))
	op.setToken(tokenOK(sign(t, s, op.claims()), map[string]any{"id_token": nil}))
	if _, err := p.Refresh(ctx, "refresh-1", nil); err != nil {
		t.Fatal(err)
	}
	jtis = append(jtis, check("refresh", op.lastTokenReq(t).Form))
	if err := p.Revoke(ctx, "refresh-1"); err != nil {
		t.Fatal(err)
	}
	jtis = append(jtis, check("revoke", op.revokes[0].Form))
	if len(slices.Compact(slices.Sorted(slices.Values(jtis)))) != 4 {
		t.Fatalf("jti reused: %v", jtis)
	}
}

func TestClientSecretJWT(t *testing.T) {
	s, pub := newRSA(t, "k1")
	op := newFakeOP(t, pub)
	op.setToken(tokenOK(sign(t, s, op.claims()), nil))
	p := newProvider(t, op, func(c *Config) { c.Cognito, c.AuthStyle = false, AuthStyleSecretJWT })
	if _, err := p.Exchange(context.Background(), "code", "verifier", testNonce); err != nil {
		t.Fatal(err)
	}
	f := op.lastTokenReq(t).Form
	if f.Has("client_secret") {
		t.Fatal("the secret travelled")
	}
	if _, err := jws.Verify([]byte(f.Get("client_assertion")), jws.WithKey(jwa.HS256, []byte(testClientSecret))); err != nil {
		t.Fatalf("assertion not HMAC'd with the secret: %v", err)
	}
}

func TestPARModes(t *testing.T) {
	s, pub := newRSA(t, "k1")
	_ = s
	verifier := strings.Repeat("v", 43)
	for _, tt := range []struct {
		name          string
		mode          PARMode
		endpoint, req bool
		wantPush      bool
		wantErr       bool
	}{
		{name: "auto without endpoint", mode: PARAuto},
		{name: "auto with endpoint", mode: PARAuto, endpoint: true, wantPush: true},
		{name: "never with endpoint", mode: PARNever, endpoint: true},
		{name: "never when required", mode: PARNever, endpoint: true, req: true, wantErr: true},
		{name: "always without endpoint", mode: PARAlways, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			op := newFakeOP(t, pub)
			if tt.endpoint {
				newPAROP(t, op, tt.req)
			}
			p := newProvider(t, op, func(c *Config) { c.Cognito, c.PAR = false, tt.mode })
			raw, err := p.AuthCodeURL(context.Background(), "st", testNonce, verifier, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && strings.Contains(raw, "request_uri=") != tt.wantPush {
				t.Fatalf("url %s", raw)
			}
		})
	}
}

func TestAssertionAudienceTokenEndpoint(t *testing.T) {
	s, pub := newRSA(t, "k1")
	op := newFakeOP(t, pub)
	op.setToken(tokenOK(sign(t, s, op.claims()), nil))
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := newProvider(t, op, func(c *Config) {
		c.Cognito, c.ClientSecret, c.AuthStyle, c.AssertionAudienceToken = false, "", AuthStylePrivateKeyJWT, true
		c.ClientKeys = []ClientKey{{KeyID: "ck", Key: ec}}
	})
	if _, err := p.Exchange(context.Background(), "code", "verifier", testNonce); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Parse([]byte(op.lastTokenReq(t).Form.Get("client_assertion")), jwt.WithVerify(false), jwt.WithValidate(false))
	if err != nil || !slices.Equal(tok.Audience(), []string{op.srv.URL + "/oauth2/token"}) {
		t.Fatalf("aud %v %v", tok.Audience(), err)
	}
}
