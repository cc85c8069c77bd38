package bff_test

// An authorization server implementing RFC 8707 resource indicators as
// documented (and as panva's oidc-provider does): the authorization
// request names resources; a refresh grant with resource narrows the
// access token to it (aud = the resource) if and only if the grant named
// it, else invalid_target; refresh tokens rotate on every use (the old one
// dies); client credentials tokens have aud = the resource and sub = the
// client. Plus an echo upstream that accepts only tokens whose aud is its
// own resource.

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/authbff/authbff/internal/oidc"
)

const rsClientID, rsClientSecret = "rs-client", "rs-secret"

type rsAS struct {
	t   *testing.T
	srv *httptest.Server
	key jwk.Key
	// ExpiresIn is the lifetime of the access tokens issued (seconds).
	ExpiresIn atomic.Int64
	// Deny is a resource refused on a refresh (invalid_target) although
	// granted.
	Deny string
	// GrantTypes, when set, is discovery's grant_types_supported.
	GrantTypes []string

	mu       sync.Mutex
	codes    map[string]url.Values // code -> authorize query
	grants   map[string][]string   // live refresh token -> granted resources
	Grants   []url.Values          // every token request after the code exchange
	AuthReqs []url.Values
}

func newRSAS(t *testing.T) *rsAS {
	t.Helper()
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := jwk.FromRaw(raw)
	_ = key.Set(jwk.KeyIDKey, "rs1")
	_ = key.Set(jwk.AlgorithmKey, jwa.RS256)
	as := &rsAS{t: t, key: key, codes: map[string]url.Values{}, grants: map[string][]string{}}
	as.ExpiresIn.Store(3600)
	as.srv = httptest.NewServer(http.HandlerFunc(as.serve))
	t.Cleanup(as.srv.Close)
	return as
}

func (as *rsAS) Issuer() string { return as.srv.URL }

func (as *rsAS) setGrantTypes(gt []string) {
	as.mu.Lock()
	as.GrantTypes = gt
	as.mu.Unlock()
}

func (as *rsAS) grantTypes() []string {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.GrantTypes != nil {
		return as.GrantTypes
	}
	return []string{"authorization_code", "refresh_token", "client_credentials"}
}

// env configures authbff's provider "okta" at as.
func (as *rsAS) env() map[string]string {
	return map[string]string{"AUTH_OKTA_ISSUER": as.Issuer(), "AUTH_OKTA_ID": rsClientID, "AUTH_OKTA_SECRET": rsClientSecret}
}

// grantCount counts the token requests after sign-in with grant_type gt
// and resource res ("" for any).
func (as *rsAS) grantCount(gt, res string) int {
	as.mu.Lock()
	defer as.mu.Unlock()
	n := 0
	for _, f := range as.Grants {
		if f.Get("grant_type") == gt && (res == "" || f.Get("resource") == res) {
			n++
		}
	}
	return n
}

func (as *rsAS) jwt(claims map[string]any) string {
	payload, _ := json.Marshal(claims)
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, "rs1")
	out, err := jws.Sign(payload, jws.WithKey(jwa.RS256, as.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		as.t.Error(err)
	}
	return string(out)
}

func rsError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	io.WriteString(w, `{"error":"`+code+`"}`)
}

func (as *rsAS) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		writeJSON(w, map[string]any{
			"issuer": as.Issuer(), "authorization_endpoint": as.Issuer() + "/authorize", "token_endpoint": as.Issuer() + "/token",
			"jwks_uri": as.Issuer() + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"grant_types_supported": as.grantTypes(),
		})
	case "/jwks":
		pub, _ := jwk.PublicKeyOf(as.key)
		set := jwk.NewSet()
		_ = set.AddKey(pub)
		writeJSON(w, set)
	case "/authorize":
		q := r.URL.Query()
		code := oidc.RandomString(16)
		as.mu.Lock()
		as.codes[code] = q
		as.AuthReqs = append(as.AuthReqs, q)
		as.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	case "/token":
		_ = r.ParseForm()
		f := r.PostForm
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = f.Get("client_id"), f.Get("client_secret")
		}
		if id != rsClientID || secret != rsClientSecret {
			rsError(w, "invalid_client")
			return
		}
		now := time.Now().Unix()
		exp := as.ExpiresIn.Load()
		at := func(sub, aud string) string {
			return as.jwt(map[string]any{"iss": as.Issuer(), "sub": sub, "aud": aud, "client_id": rsClientID, "iat": now, "exp": now + exp, "jti": oidc.RandomString(8)})
		}
		as.mu.Lock()
		defer as.mu.Unlock()
		switch f.Get("grant_type") {
		case "authorization_code":
			q, ok := as.codes[f.Get("code")]
			delete(as.codes, f.Get("code"))
			if !ok || oidc.PKCEChallenge(f.Get("code_verifier")) != q.Get("code_challenge") {
				rsError(w, "invalid_grant")
				return
			}
			rt := "rt-" + oidc.RandomString(12)
			as.grants[rt] = q["resource"]
			writeJSON(w, map[string]any{"access_token": at("alice", rsClientID), "token_type": "Bearer", "expires_in": exp,
				"refresh_token": rt, "id_token": as.jwt(idClaims(as.Issuer(), "alice", rsClientID, q.Get("nonce"), map[string]any{"name": "Alice"}))})
		case "refresh_token":
			as.Grants = append(as.Grants, f)
			granted, ok := as.grants[f.Get("refresh_token")]
			if !ok {
				rsError(w, "invalid_grant")
				return
			}
			aud := rsClientID
			if res := f["resource"]; len(res) > 0 {
				if len(res) != 1 || !slices.Contains(granted, res[0]) || res[0] == as.Deny {
					rsError(w, "invalid_target") // no rotation on an error
					return
				}
				aud = res[0]
			}
			delete(as.grants, f.Get("refresh_token"))
			rt := "rt-" + oidc.RandomString(12)
			as.grants[rt] = granted
			writeJSON(w, map[string]any{"access_token": at("alice", aud), "token_type": "Bearer", "expires_in": exp, "refresh_token": rt})
		case "client_credentials":
			as.Grants = append(as.Grants, f)
			aud := f.Get("resource")
			if aud == "" {
				aud = rsClientID
			}
			writeJSON(w, map[string]any{"access_token": at(rsClientID, aud), "token_type": "Bearer", "expires_in": exp})
		default:
			rsError(w, "unsupported_grant_type")
		}
	default:
		http.NotFound(w, r)
	}
}

// audEcho is an upstream that answers 200 with the token's sub and aud
// when its aud is Resource ("" accepts any), else 401; it records every
// Authorization header it saw.
type audEcho struct {
	srv      *httptest.Server
	Resource string
	mu       sync.Mutex
	Seen     []string
}

func newAudEcho(t *testing.T, resource string) *audEcho {
	e := &audEcho{Resource: resource}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		e.mu.Lock()
		e.Seen = append(e.Seen, h)
		want := e.Resource
		e.mu.Unlock()
		cl := jwtClaims(strings.TrimPrefix(h, "Bearer "))
		aud, _ := cl["aud"].(string)
		if h != "" && want != "" && aud != want {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		writeJSON(w, map[string]any{"sub": cl["sub"], "aud": aud, "auth": h != ""})
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *audEcho) URL() string { return e.srv.URL }

// setResource changes the aud the echo accepts.
func (e *audEcho) setResource(r string) {
	e.mu.Lock()
	e.Resource = r
	e.mu.Unlock()
}

// seenCount is how many requests reached the echo.
func (e *audEcho) seenCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.Seen)
}

// seenAuds are the aud claims of every token the echo received.
func (e *audEcho) seenAuds() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, h := range e.Seen {
		aud, _ := jwtClaims(strings.TrimPrefix(h, "Bearer "))["aud"].(string)
		out = append(out, aud)
	}
	return out
}

// jwtClaims decodes a JWT's payload without checking it (a test upstream).
func jwtClaims(tok string) map[string]any {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// proxyGet calls /api/proxy/<path> as the SPA's fetch does.
func proxyGet(b *provBrowser, app *provApp, path string) (*http.Response, []byte) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/proxy/"+path, nil)
	req.Header.Set("X-CSRF", "1")
	req.Header.Set("Origin", app.URL)
	return b.do(req)
}
