// Package fakeop is the one configurable fake OpenID provider of authbff's
// tests: an httptest server with discovery, a JWKS, an authorize endpoint
// that signs the user in at once, a token endpoint (PKCE S256; code and
// refresh grants), userinfo, and knobs for hostile answers (Mutate,
// TokenError, an unpublished key). Options shape it like a Cognito user
// pool or a standard OP at the root, with the ID token algorithm of choice.
// Gate, in gate.go, puts a token-endpoint middleware (held answers, delays,
// outages, recorded tokens) in front of any IdP, the development IdP
// included. Only tests import it.
package fakeop

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Options shape an OP. The zero value is a standard OP at the root: RS256,
// the profile in the ID token, refresh tokens issued, one-hour access
// tokens, client_secret_basic or _post.
type Options struct {
	// Cognito makes it a Cognito-shaped user pool: issuer <url>/pool,
	// endpoints under /oauth2/, client_secret_post only (a bad client is a
	// 400), Cognito claims (token_use, cognito:username) for user ada, no
	// iss in the authorization response.
	Cognito bool
	// Alg is the ID token signature algorithm: RS256, ES256 or EdDSA.
	Alg jwa.SignatureAlgorithm
	// ListAlgs is discovery's id_token_signing_alg_values_supported; [Alg]
	// when nil.
	ListAlgs []string
	// UserInfoProfile keeps name and email out of every ID token: only
	// userinfo has them (panva's oidc-provider's default).
	UserInfoProfile bool
	// NoRefreshToken issues no refresh token.
	NoRefreshToken bool
	// RefreshIDToken makes the refresh grant return a new ID token too
	// (without nonce; with the profile only when UserInfoProfile is false).
	RefreshIDToken bool
	// AccessTTL is the access tokens' expires_in (one hour when zero).
	AccessTTL time.Duration
}

// Stats count what reached an OP.
type Stats struct {
	// Calls is every request to the token endpoint.
	Calls                                            int
	CodeGrants, RefreshGrants, TokenErrors, UserInfo int
}

// OP is a fake OpenID provider on a loopback httptest server.
type OP struct {
	t    testing.TB
	Srv  *httptest.Server
	Opts Options
	// Key signs ID tokens and is published; Rogue is not published.
	Key, Rogue       jwk.Key
	ClientID, Secret string
	// The one user it signs in.
	Sub, Name, Email string

	mu      sync.Mutex
	codes   map[string]code
	access  map[string]bool // live access tokens
	refresh map[string]bool // live refresh tokens
	issued  []string        // every token handed out
	stats   Stats

	// Mutate, when set, edits the code grant's ID token claims before
	// signing; a non-empty return is sent instead (a custom compact token).
	// Set it while no sign-in is in flight, or with SetMutate.
	Mutate func(claims map[string]any) string
	// TokenError, when set, is the OAuth error every token request answers
	// (400). Set it while no request is in flight, or with SetTokenError.
	TokenError string
}

type code struct {
	nonce, challenge, redirect string
}

// New starts an OP shaped by opts; it stops when the test ends.
func New(t testing.TB, opts Options) *OP {
	t.Helper()
	if opts.Alg == "" {
		opts.Alg = jwa.RS256
	}
	if opts.ListAlgs == nil {
		opts.ListAlgs = []string{opts.Alg.String()}
	}
	if opts.AccessTTL == 0 {
		opts.AccessTTL = time.Hour
	}
	f := &OP{t: t, Opts: opts, codes: map[string]code{}, access: map[string]bool{}, refresh: map[string]bool{}}
	if opts.Cognito {
		f.ClientID, f.Secret = "spa-client", "s3cr+t/with=chars"
		f.Sub, f.Name, f.Email = "user-123", "Ada Lovelace", "ada@example.com"
		f.Key = NewSigningKey(t, opts.Alg, "k1")
	} else {
		f.ClientID, f.Secret = "op-client", "op-s3cret+/="
		f.Sub, f.Name, f.Email = "op-user-7", "Hedy Lamarr", "hedy@example.org"
		f.Key = NewSigningKey(t, opts.Alg, "op-"+strings.ToLower(opts.Alg.String()))
	}
	f.Rogue = NewSigningKey(t, opts.Alg, "rogue")
	mux := http.NewServeMux()
	f.Srv = httptest.NewServer(mux)
	t.Cleanup(f.Srv.Close)
	iss, base := f.Issuer(), f.Srv.URL
	authorize, token, userinfo, jwks := base+"/authorize", base+"/token", base+"/userinfo", iss+"/jwks"
	if opts.Cognito {
		authorize, token, userinfo, jwks = base+"/oauth2/authorize", base+"/oauth2/token", base+"/oauth2/userInfo", iss+"/.well-known/jwks.json"
	}
	discovery := map[string]any{
		"issuer": iss, "authorization_endpoint": authorize, "token_endpoint": token,
		"userinfo_endpoint": userinfo, "jwks_uri": jwks,
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": opts.ListAlgs,
	}
	if !opts.Cognito {
		discovery["code_challenge_methods_supported"] = []string{"S256"}
		discovery["scopes_supported"] = []string{"openid", "profile", "email"}
		discovery["token_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "client_secret_post"}
	}
	mux.HandleFunc("GET "+path(iss)+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, 200, discovery)
	})
	mux.HandleFunc("GET "+path(jwks), func(w http.ResponseWriter, r *http.Request) {
		pub, err := f.Key.PublicKey()
		if err != nil {
			t.Error(err)
		}
		set := jwk.NewSet()
		_ = set.AddKey(pub)
		WriteJSON(w, 200, set)
	})
	mux.HandleFunc("GET "+path(authorize), func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" || q.Get("client_id") != f.ClientID {
			http.Error(w, "bad authorize request", 400)
			return
		}
		c := RandHex(16)
		f.mu.Lock()
		f.codes[c] = code{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
		f.mu.Unlock()
		to := q.Get("redirect_uri") + "?code=" + c + "&state=" + url.QueryEscape(q.Get("state"))
		if !opts.Cognito {
			to += "&iss=" + url.QueryEscape(iss)
		}
		http.Redirect(w, r, to, http.StatusFound)
	})
	mux.HandleFunc("POST "+path(token), f.token)
	mux.HandleFunc(path(userinfo), f.userinfo)
	return f
}

func path(u string) string {
	p, _ := url.Parse(u)
	return p.Path
}

// Issuer is the OP's issuer: the server's root, <root>/pool for Cognito.
func (f *OP) Issuer() string {
	if f.Opts.Cognito {
		return f.Srv.URL + "/pool"
	}
	return f.Srv.URL
}

// Snapshot returns the counters so far.
func (f *OP) Snapshot() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Calls is how many requests reached the token endpoint.
func (f *OP) Calls() int { return f.Snapshot().Calls }

// Issued returns every token the token endpoint handed out, in order.
func (f *OP) Issued() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.issued...)
}

// SetMutate sets the function that edits the code grant's ID token claims
// before signing; a non-empty return is sent instead (a custom compact
// token). nil restores plain tokens.
func (f *OP) SetMutate(m func(claims map[string]any) string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Mutate = m
}

// SetTokenError makes every token request answer the OAuth error code
// (400); "" restores normal answers.
func (f *OP) SetTokenError(code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.TokenError = code
}

// Env configures the OP as the provider id through AUTH_<ID>_*, with a
// memory store, an "auto" NEXTAUTH_URL and federated sign-out off; kv are
// more variable, value pairs.
func (f *OP) Env(id string, kv ...string) map[string]string {
	up := strings.ToUpper(id)
	env := map[string]string{
		"AUTH_" + up + "_ISSUER": f.Issuer(), "AUTH_" + up + "_ID": f.ClientID, "AUTH_" + up + "_SECRET": f.Secret,
		"NEXTAUTH_URL": "auto", "NEXTAUTH_SECRET": strings.Repeat("e2e-secret-", 4), "SESSION_STORE": "memory",
		"AUTH_FEDERATED_SIGNOUT": "0",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

// Sign signs claims with the published key, or with keys[0] when given.
func (f *OP) Sign(claims map[string]any, keys ...jwk.Key) string {
	f.t.Helper()
	k := f.Key
	if len(keys) > 0 {
		k = keys[0]
	}
	return SignWith(f.t, claims, f.Opts.Alg, k)
}
