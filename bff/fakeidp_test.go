package bff_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
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

// fakeIdP is a hostile-capable OpenID provider on loopback: its authorize
// endpoint signs the user in at once and redirects back; Mutate lets a test
// change the ID token the token endpoint hands out.
type fakeIdP struct {
	t        *testing.T
	srv      *httptest.Server
	key      jwk.Key // published
	rogue    jwk.Key // not published
	clientID string
	secret   string

	mu         sync.Mutex
	codes      map[string]fakeCode
	tokenCalls int
	issued     []string // every token string handed out
	// TokenError, when set, is the OAuth error the token endpoint answers.
	TokenError string
	// Mutate, when set, edits the ID token claims before signing; it may
	// return a fully custom compact token instead (non-empty string).
	Mutate func(claims map[string]any) string
}

type fakeCode struct {
	nonce, challenge, redirect string
}

func newFakeIdP(t *testing.T) *fakeIdP {
	t.Helper()
	f := &fakeIdP{t: t, clientID: "spa-client", secret: "s3cr+t/with=chars", codes: map[string]fakeCode{}}
	f.key = newRSAKey(t, "k1")
	f.rogue = newRSAKey(t, "rogue")
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	iss := f.issuer()
	mux.HandleFunc("/pool/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{
			"issuer": iss, "authorization_endpoint": f.srv.URL + "/oauth2/authorize",
			"token_endpoint": f.srv.URL + "/oauth2/token", "jwks_uri": iss + "/.well-known/jwks.json",
			"userinfo_endpoint": f.srv.URL + "/oauth2/userInfo", "response_types_supported": []string{"code"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "subject_types_supported": []string{"public"},
		})
	})
	mux.HandleFunc("/pool/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		pub, _ := f.key.PublicKey()
		set := jwk.NewSet()
		_ = set.AddKey(pub)
		writeJSON(w, 200, set)
	})
	mux.HandleFunc("/oauth2/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" || q.Get("client_id") != f.clientID {
			http.Error(w, "bad authorize request", 400)
			return
		}
		code := randHex(16)
		f.mu.Lock()
		f.codes[code] = fakeCode{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
		f.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("/oauth2/token", f.token)
	return f
}

func (f *fakeIdP) issuer() string { return f.srv.URL + "/pool" }

func (f *fakeIdP) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenCalls
}

func (f *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.tokenCalls++
	f.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid_request"})
		return
	}
	if f.TokenError != "" {
		writeJSON(w, 400, map[string]string{"error": f.TokenError, "error_description": "forced by the test"})
		return
	}
	if r.PostForm.Get("client_id") != f.clientID || r.PostForm.Get("client_secret") != f.secret {
		writeJSON(w, 400, map[string]string{"error": "invalid_client"})
		return
	}
	f.mu.Lock()
	c, ok := f.codes[r.PostForm.Get("code")]
	delete(f.codes, r.PostForm.Get("code"))
	f.mu.Unlock()
	if !ok || c.redirect != r.PostForm.Get("redirect_uri") || pkceS256(r.PostForm.Get("code_verifier")) != c.challenge {
		writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	claims := map[string]any{
		"iss": f.issuer(), "sub": "user-123", "aud": f.clientID, "exp": now.Add(time.Hour).Unix(),
		"iat": now.Unix(), "nonce": c.nonce, "token_use": "id", "email": "ada@example.com",
		"email_verified": true, "name": "Ada Lovelace", "cognito:username": "ada",
	}
	var idt string
	if f.Mutate != nil {
		idt = f.Mutate(claims)
	}
	if idt == "" {
		idt = f.sign(claims, f.key)
	}
	at, rt := "AT-"+randHex(24), "RT-"+randHex(24)
	f.mu.Lock()
	f.issued = append(f.issued, idt, at, rt)
	f.mu.Unlock()
	writeJSON(w, 200, map[string]any{"access_token": at, "id_token": idt, "refresh_token": rt, "token_type": "Bearer", "expires_in": 3600})
}

func (f *fakeIdP) sign(claims map[string]any, key jwk.Key) string {
	f.t.Helper()
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			f.t.Fatal(err)
		}
	}
	b, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256, key))
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

func newRSAKey(t *testing.T, kid string) jwk.Key {
	t.Helper()
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, kid)
	_ = k.Set(jwk.AlgorithmKey, jwa.RS256)
	return k
}

// unsigned builds an alg=none token.
func unsigned(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	p, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(p) + "."
}

// flipSig corrupts the signature of a compact JWS.
func flipSig(tok string) string {
	parts := strings.Split(tok, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[10] ^= 0xff
	parts[2] = base64.RawURLEncoding.EncodeToString(sig)
	return strings.Join(parts, ".")
}

func pkceS256(v string) string {
	h := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
