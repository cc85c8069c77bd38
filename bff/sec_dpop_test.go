package bff_test

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/oidc"
)

// secDPoPEcho is an upstream that verifies DPoP proofs as a resource
// server must (RFC 9449 4.3, 7.1): Authorization: DPoP, a dpop+jwt signed
// by the key in its header, htm and htu of the call, ath of the token,
// jti never seen before, and its own nonce (it asks with use_dpop_nonce
// first). It records the key thumbprint and token of every accepted call.
// A token in revoked is refused (401 invalid_token) after the proof
// checks; an accepted upgrade becomes a WebSocket echoing messages.
type secDPoPEcho struct {
	mu         sync.Mutex
	challenges int
	jtis       map[string]bool
	revoked    map[string]bool
	accepted   []secDPoPCall
	refused    []string
	srv        *httptest.Server
}

type secDPoPCall struct{ Token, JKT, HTU string }

const secEchoNonce = "echo-nonce-1"

func newSecDPoPEcho(t *testing.T) *secDPoPEcho {
	e := &secDPoPEcho{jtis: map[string]bool{}, revoked: map[string]bool{}}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *secDPoPEcho) refuse(w http.ResponseWriter, why string) {
	e.mu.Lock()
	e.refused = append(e.refused, why)
	e.mu.Unlock()
	w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token"`)
	w.WriteHeader(http.StatusUnauthorized)
}

func (e *secDPoPEcho) serve(w http.ResponseWriter, r *http.Request) {
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "DPoP ")
	if !ok {
		e.refuse(w, "no DPoP authorization")
		return
	}
	msg, err := jws.Parse([]byte(r.Header.Get("DPoP")))
	if err != nil || len(msg.Signatures()) != 1 {
		e.refuse(w, "no proof")
		return
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	key := hdr.JWK()
	if hdr.Type() != "dpop+jwt" || key == nil || hdr.Algorithm() != jwa.ES256 {
		e.refuse(w, "bad proof header")
		return
	}
	if _, err := jws.Verify([]byte(r.Header.Get("DPoP")), jws.WithKey(jwa.ES256, key)); err != nil {
		e.refuse(w, "bad proof signature")
		return
	}
	var c struct {
		JTI, HTM, HTU, ATH, Nonce string
		IAT                       int64
	}
	_ = json.Unmarshal(msg.Payload(), &c)
	sum := sha256.Sum256([]byte(at))
	htu := "http://" + r.Host + r.URL.Path
	switch {
	case c.HTM != r.Method || c.HTU != htu:
		e.refuse(w, "htm/htu "+c.HTM+" "+c.HTU+" for "+r.Method+" "+htu)
		return
	case c.ATH != base64.RawURLEncoding.EncodeToString(sum[:]):
		e.refuse(w, "ath")
		return
	case time.Since(time.Unix(c.IAT, 0)).Abs() > time.Minute:
		e.refuse(w, "iat")
		return
	}
	e.mu.Lock()
	replay := e.jtis[c.JTI]
	e.jtis[c.JTI] = true
	e.mu.Unlock()
	if replay || c.JTI == "" {
		e.refuse(w, "jti replay")
		return
	}
	if c.Nonce != secEchoNonce {
		e.mu.Lock()
		e.challenges++
		e.mu.Unlock()
		w.Header().Set("DPoP-Nonce", secEchoNonce)
		w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	e.mu.Lock()
	revoked := e.revoked[at]
	e.mu.Unlock()
	if revoked {
		e.refuse(w, "revoked token")
		return
	}
	tp, _ := key.Thumbprint(crypto.SHA256)
	e.mu.Lock()
	e.accepted = append(e.accepted, secDPoPCall{Token: at, JKT: base64.RawURLEncoding.EncodeToString(tp), HTU: c.HTU})
	e.mu.Unlock()
	if r.Header.Get("Upgrade") != "" {
		secEchoSocket(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`)
}

// TestSecDPoPPanva (issue 24): AUTH_FAPI_DPOP=1 against panva's
// oidc-provider with DPoP (nonces required, the client's tokens bound):
// the token response's token_type is DPoP; a proxied call reaches an
// upstream that verifies the proof (htm, htu, ath, jti, its own nonce)
// with Authorization: DPoP and a key whose thumbprint is the token's
// cnf.jkt (the provider's introspection); the same token as a Bearer
// token without a proof is refused by userinfo; a refresh keeps the key.
func TestSecDPoPPanva(t *testing.T) {
	ln, appURL := secListen(t)
	const clientID = "authbff-dpop"
	iss := secStartPanva(t, "CLIENT_ID="+clientID, "REDIRECT_URI="+appURL+"/api/auth/callback/fapi",
		"JWKS_URI="+appURL+"/api/auth/jwks", "DPOP_BOUND=1", "DPOP_NONCE=1", "ACCESS_TTL=30")
	keyPEM := secKeyPEM(t, false)
	keyFile := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(keyFile, []byte(keyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	echo := newSecDPoPEcho(t)
	rec := &secRecorder{}
	app := secServe(t, ln, map[string]string{
		"AUTH_FAPI_ISSUER": iss, "AUTH_FAPI_ID": clientID, "AUTH_FAPI_AUTH_STYLE": "private_key_jwt",
		"AUTH_FAPI_CLIENT_KEY_FILE": keyFile, "AUTH_FAPI_CLIENT_KEY_ID": "k1", "AUTH_FAPI_DPOP": "1",
		"SESSION_STORE": "memory", "AUTH_FEDERATED_SIGNOUT": "0", "UPSTREAM_ECHO": echo.srv.URL,
	}, rec.client())

	b := newProvBrowser(t)
	cb := secInteract(b, app, b.startSignIn(app, "fapi", nil), "alice")
	if resp, _ := b.get(cb); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != app.URL+"/account" {
		t.Fatalf("sign-in: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), app.Logs)
	}
	if user := b.sessionUser(app); user == nil || user["name"] != "Fapi alice" {
		t.Fatalf("session.user = %v (userinfo with the DPoP token)", user)
	}
	code := rec.waitCall(t, "code exchange", func(c secCall) bool {
		return c.Form.Get("grant_type") == "authorization_code" && c.Status == http.StatusOK
	})
	var tr struct {
		TokenType string `json:"token_type"`
	}
	if json.Unmarshal([]byte(code.Body), &tr); tr.TokenType != "DPoP" || code.Header.Get("DPoP") == "" {
		t.Fatalf("token response token_type %q (DPoP header %q)", tr.TokenType, code.Header.Get("DPoP"))
	}

	resp, body := secProxyGet(b, app, "echo/orders?x=1")
	if resp.StatusCode != http.StatusOK || len(echo.accepted) != 1 {
		t.Fatalf("proxied call: %d %s (refused: %v)", resp.StatusCode, body, echo.refused)
	}
	got := echo.accepted[0]
	if echo.challenges != 1 {
		t.Fatalf("%d use_dpop_nonce challenges for the first call, want 1", echo.challenges)
	}
	if got.HTU != echo.srv.URL+"/orders" {
		t.Fatalf("htu %s", got.HTU)
	}

	// The provider bound the token to the session's key: cnf.jkt.
	intro := secIntrospect(t, iss, clientID, keyPEM, got.Token)
	if intro.Cnf.JKT == "" || intro.Cnf.JKT != got.JKT || !intro.Active {
		t.Fatalf("introspection %+v, proof key %s", intro, got.JKT)
	}
	// The token alone, as a bearer token, is refused.
	req, _ := http.NewRequest(http.MethodGet, iss+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+got.Token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("userinfo with the DPoP token as bearer: %v %v", resp.StatusCode, err)
	}

	// A refresh (30 s tokens are due) binds the new token to the same key.
	if resp, body := secPost(b, app, "/api/auth/session", url.Values{}); resp.StatusCode != http.StatusOK {
		t.Fatalf("session update: %d %s", resp.StatusCode, body)
	}
	rec.waitCall(t, "refresh", func(c secCall) bool { return c.Form.Get("grant_type") == "refresh_token" && c.Status == http.StatusOK })
	if resp, body := secProxyGet(b, app, "echo/orders"); resp.StatusCode != http.StatusOK || len(echo.accepted) != 2 {
		t.Fatalf("after the refresh: %d %s (refused: %v)", resp.StatusCode, body, echo.refused)
	}
	if echo.challenges != 1 {
		t.Fatalf("the proxy was challenged again (%d): it does not remember the upstream's nonce", echo.challenges)
	}
	if a := echo.accepted[1]; a.Token == got.Token || a.JKT != got.JKT {
		t.Fatalf("after the refresh: same token %v, key %s vs %s", a.Token == got.Token, a.JKT, got.JKT)
	}

	// A host handler calls the same upstream through Session.Authenticate.
	host := httptest.NewServer(app.BFF.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := bff.SessionFrom(r.Context())
		call := func(nonce string) *http.Response {
			req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, echo.srv.URL+"/host", nil)
			if err := s.AuthenticateWithNonce(req, nonce); err != nil {
				t.Errorf("Authenticate: %v", err)
				return nil
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("host call: %v", err)
				return nil
			}
			resp.Body.Close()
			return resp
		}
		resp := call("")
		if resp != nil && resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("DPoP-Nonce") != "" {
			resp = call(resp.Header.Get("DPoP-Nonce"))
		}
		if resp != nil {
			w.WriteHeader(resp.StatusCode)
		}
	})))
	t.Cleanup(host.Close)
	req, _ = http.NewRequest(http.MethodGet, host.URL+"/x", nil)
	req.Header.Set("X-CSRF", "1")
	req.Header.Set("Origin", app.URL)
	if resp, _ := b.do(req); resp.StatusCode != http.StatusOK || len(echo.accepted) != 3 || echo.accepted[2].JKT != got.JKT {
		t.Fatalf("host handler's call: %d (accepted %d, refused %v)", resp.StatusCode, len(echo.accepted), echo.refused)
	}
	if len(echo.refused) != 0 {
		t.Fatalf("the echo refused proofs: %v", echo.refused)
	}
}

type secIntrospection struct {
	Active    bool   `json:"active"`
	TokenType string `json:"token_type"`
	Cnf       struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

// secIntrospect asks the provider's introspection endpoint about token,
// authenticating as the client with its key.
func secIntrospect(t *testing.T, iss, clientID, keyPEM, token string) secIntrospection {
	t.Helper()
	keys, err := oidc.ParseClientKeys([]byte(keyPEM), "k1")
	if err != nil {
		t.Fatal(err)
	}
	k, _ := jwk.FromRaw(keys[0].Key)
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, "k1")
	claims, _ := json.Marshal(map[string]any{"iss": clientID, "sub": clientID, "aud": iss, "jti": oidc.RandomString(16),
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()})
	a, err := jws.Sign(claims, jws.WithKey(jwa.ES256, k, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"token": {token}, "client_id": {clientID}, "client_assertion_type": {oidc.ClientAssertionType}, "client_assertion": {string(a)}}
	resp, err := http.PostForm(iss+"/token/introspection", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out secIntrospection
	if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("introspection: %d %s", resp.StatusCode, body)
	}
	return out
}

// secEchoSocket accepts a WebSocket and echoes its messages.
func secEchoSocket(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	for {
		typ, msg, err := c.Read(r.Context())
		if err != nil {
			return
		}
		if err := c.Write(r.Context(), typ, msg); err != nil {
			return
		}
	}
}
