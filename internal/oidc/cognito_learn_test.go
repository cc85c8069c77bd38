package oidc

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/testclock"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

const (
	poolA = "eu-west-1_PoolA1"
	poolB = "eu-west-1_PoolB2"
)

// fakePool is one user pool served by a cognitoFake.
type fakePool struct {
	signer   signer
	pub      jwk.Key
	issuer   string
	discHits atomic.Int32
}

// cognitoFake is shaped like Cognito behind a loopback hosted-UI domain:
// /oauth2/{authorize,token,userInfo,revoke} and /logout at the root, and each
// pool's issuer at /<region>_<id> on the same host:port, with discovery and
// JWKS. The token endpoint answers with whatever ID token the test sets.
type cognitoFake struct {
	srv   *httptest.Server
	op    *fakeOP // clock, token handler and recorded requests
	pools map[string]*fakePool
	// discDelay slows discovery down, so that concurrent learners would
	// overlap if they were not serialised. Set before use.
	discDelay time.Duration
}

func newCognitoFake(t *testing.T, poolIDs ...string) *cognitoFake {
	t.Helper()
	f := &cognitoFake{pools: map[string]*fakePool{}, op: &fakeOP{t: t, clock: testclock.New(t0)}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", f.op.serveToken)
	mux.HandleFunc("POST /oauth2/revoke", f.op.serveRevoke)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	for _, id := range poolIDs {
		s, pub := newRSA(t, "kid-"+id)
		pool := &fakePool{signer: s, pub: pub, issuer: f.srv.URL + "/" + id}
		f.pools[id] = pool
		mux.HandleFunc("GET /"+id+"/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
			pool.discHits.Add(1)
			time.Sleep(f.discDelay)
			writeJSON(w, http.StatusOK, map[string]any{
				"issuer":                                pool.issuer,
				"authorization_endpoint":                f.srv.URL + "/oauth2/authorize",
				"token_endpoint":                        f.srv.URL + "/oauth2/token",
				"userinfo_endpoint":                     f.srv.URL + "/oauth2/userInfo",
				"end_session_endpoint":                  f.srv.URL + "/logout",
				"jwks_uri":                              pool.issuer + "/.well-known/jwks.json",
				"id_token_signing_alg_values_supported": []string{"RS256"},
			})
		})
		mux.HandleFunc("GET /"+id+"/.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
			set := jwk.NewSet()
			_ = set.AddKey(pool.pub)
			writeJSON(w, http.StatusOK, set)
		})
	}
	return f
}

// idToken is a valid ID token of pool, signed by its key.
func (f *cognitoFake) idToken(t *testing.T, pool string) string {
	t.Helper()
	p := f.pools[pool]
	c := f.op.claims()
	c["iss"] = p.issuer
	return sign(t, p.signer, c)
}

// answer makes the token endpoint return idToken.
func (f *cognitoFake) answer(idToken string) { f.op.setToken(tokenOK(idToken, nil)) }

// countingPin is an in-memory IssuerPin that counts saves.
type countingPin struct {
	mu    sync.Mutex
	iss   string
	saves int
	fail  error
}

func (c *countingPin) Load() (string, error) { c.mu.Lock(); defer c.mu.Unlock(); return c.iss, nil }
func (c *countingPin) Save(iss string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.saves++
	if c.fail != nil {
		return c.fail
	}
	c.iss = iss
	return nil
}

// learningProvider is a LearnIssuer provider on f's domain with pin.
func learningProvider(t *testing.T, f *cognitoFake, pin IssuerPin, log *slog.Logger) *Provider {
	t.Helper()
	p, err := New(Config{
		ID: "cognito", ClientID: testClientID, ClientSecret: testClientSecret,
		RedirectURL: "http://localhost:3000/api/auth/callback/cognito",
		Cognito:     true, CognitoDomain: f.srv.URL, LearnIssuer: true, IssuerPin: pin,
		Now: f.op.clock.Now, Logger: log,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func exchange(p *Provider) (*Result, error) {
	return p.Exchange(context.Background(), "code-1", NewVerifier(), testNonce)
}

func TestLearnIssuerPendingUsesDomainEndpoints(t *testing.T) {
	f := newCognitoFake(t, poolA)
	p := learningProvider(t, f, nil, nil)
	ctx := context.Background()
	if p.Issuer() != "" {
		t.Fatalf("Issuer() = %q before any sign-in, want \"\"", p.Issuer())
	}
	if err := p.Discover(ctx); err != nil {
		t.Errorf("Discover while pending = %v, want nil (nothing to discover)", err)
	}
	u, err := p.AuthCodeURL(ctx, "state-1", testNonce, NewVerifier(), nil)
	if err != nil || !strings.HasPrefix(u, f.srv.URL+"/oauth2/authorize?") {
		t.Errorf("AuthCodeURL = %q, %v; want the domain's /oauth2/authorize", u, err)
	}
	out, err := p.EndSessionURL(ctx, "", "http://localhost:3000")
	if err != nil || !strings.HasPrefix(out, f.srv.URL+"/logout?") {
		t.Errorf("EndSessionURL = %q, %v; want the domain's /logout", out, err)
	}
	if err := p.Revoke(ctx, "refresh-1"); err != nil {
		t.Errorf("Revoke while pending: %v", err)
	}
	// Only a token fetched from the token endpoint may teach the issuer.
	if _, err := p.VerifyIDToken(ctx, f.idToken(t, poolA), testNonce); !errors.Is(err, ErrDiscovery) || p.Issuer() != "" {
		t.Errorf("VerifyIDToken while pending = %v, issuer %q; want ErrDiscovery and nothing learned", err, p.Issuer())
	}
	if n := f.pools[poolA].discHits.Load(); n != 0 {
		t.Errorf("pool discovery fetched %d times before any sign-in", n)
	}
}

func TestLearnIssuerPinsFirstAndRefusesAnotherPool(t *testing.T) {
	f := newCognitoFake(t, poolA, poolB)
	pinPath := IssuerPinFile(filepath.Join(t.TempDir(), "data"), "cognito")
	var logs bytes.Buffer
	p := learningProvider(t, f, NewFileIssuerPin(pinPath, f.srv.URL+"/"), slog.New(slog.NewTextHandler(&logs, nil)))

	f.answer(f.idToken(t, poolA))
	res, err := exchange(p)
	if err != nil {
		t.Fatalf("first sign-in: %v", err)
	}
	wantIss := f.pools[poolA].issuer
	if res.Claims.Issuer != wantIss || p.Issuer() != wantIss {
		t.Fatalf("claims iss %q, Issuer() %q; want %q", res.Claims.Issuer, p.Issuer(), wantIss)
	}
	fi, err := os.Stat(pinPath)
	if err != nil {
		t.Fatalf("pin file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("pin file mode %v, want 0600", fi.Mode().Perm())
	}
	if got, err := NewFileIssuerPin(pinPath, f.srv.URL).Load(); err != nil || got != wantIss {
		t.Errorf("pin file holds %q, %v; want %q", got, err, wantIss)
	}
	for _, want := range []string{"learned from the first sign-in and pinned", "issuer=" + wantIss, "COGNITO_ISSUER=" + wantIss, pinPath} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}

	// After pinning: the same pool verifies, with discovery's JWKS as always.
	if _, err := exchange(p); err != nil {
		t.Errorf("second sign-in from the pinned pool: %v", err)
	}
	if _, err := p.VerifyIDToken(context.Background(), f.idToken(t, poolA), testNonce); err != nil {
		t.Errorf("VerifyIDToken after pinning: %v", err)
	}
	// Another pool is refused without even being discovered: its own
	// token fails on the key, and one signed with a key of the pinned
	// pool on the iss.
	f.answer(f.idToken(t, poolB))
	if _, err := exchange(p); !errors.Is(err, ErrInvalidIDToken) {
		t.Errorf("sign-in from another pool = %v, want refused", err)
	}
	otherIss := f.op.claims()
	otherIss["iss"] = f.pools[poolB].issuer
	f.answer(sign(t, f.pools[poolA].signer, otherIss))
	if _, err := exchange(p); !errors.Is(err, ErrInvalidIDToken) || !strings.Contains(err.Error(), "iss mismatch") {
		t.Errorf("token naming another pool = %v, want an iss mismatch", err)
	}
	if n := f.pools[poolB].discHits.Load(); n != 0 {
		t.Errorf("the other pool was discovered %d times", n)
	}
	if p.Issuer() != wantIss {
		t.Errorf("Issuer() changed to %q", p.Issuer())
	}

	// A restart loads the pin: the issuer is known at once, and the other
	// pool is still refused.
	var logs2 bytes.Buffer
	p2 := learningProvider(t, f, NewFileIssuerPin(pinPath, f.srv.URL), slog.New(slog.NewTextHandler(&logs2, nil)))
	if p2.Issuer() != wantIss {
		t.Fatalf("after restart Issuer() = %q, want %q", p2.Issuer(), wantIss)
	}
	if !strings.Contains(logs2.String(), "pinned by an earlier sign-in") || !strings.Contains(logs2.String(), "COGNITO_ISSUER="+wantIss) {
		t.Errorf("restart log lacks the pinned issuer:\n%s", logs2.String())
	}
	if err := p2.Discover(context.Background()); err != nil {
		t.Errorf("Discover of the pinned issuer: %v", err)
	}
	if _, err := exchange(p2); !errors.Is(err, ErrInvalidIDToken) {
		t.Errorf("after restart, sign-in from another pool = %v, want refused", err)
	}
	f.answer(f.idToken(t, poolA))
	if _, err := exchange(p2); err != nil {
		t.Errorf("after restart, sign-in from the pinned pool: %v", err)
	}
}

func TestLearnIssuerRefusesWhatIsNotThePool(t *testing.T) {
	f := newCognitoFake(t, poolA)
	// A complete, valid OpenID provider whose issuer has the pool shape but
	// lives on another host:port than the hosted-UI domain.
	evil := newCognitoFake(t, poolA)
	goodClaims := func() map[string]any { return f.op.claims() }
	tests := []struct {
		name  string
		token func(t *testing.T) string
	}{
		{"pool-shaped issuer on another host:port", func(t *testing.T) string { return evil.idToken(t, poolA) }},
		{"non-Cognito issuer", func(t *testing.T) string {
			c := goodClaims()
			c["iss"] = "https://accounts.google.com"
			return sign(t, f.pools[poolA].signer, c)
		}},
		{"path not <region>_<id>", func(t *testing.T) string {
			c := goodClaims()
			c["iss"] = f.srv.URL + "/pool"
			return sign(t, f.pools[poolA].signer, c)
		}},
		{"trailing slash", func(t *testing.T) string {
			c := goodClaims()
			c["iss"] = f.pools[poolA].issuer + "/"
			return sign(t, f.pools[poolA].signer, c)
		}},
		{"nested path", func(t *testing.T) string {
			c := goodClaims()
			c["iss"] = f.srv.URL + "/x/" + poolA
			return sign(t, f.pools[poolA].signer, c)
		}},
		{"right issuer, key not in its JWKS", func(t *testing.T) string {
			s, _ := newRSA(t, "kid-"+poolA) // same kid, another key
			c := goodClaims()
			c["iss"] = f.pools[poolA].issuer
			return sign(t, s, c)
		}},
		{"right issuer, wrong audience", func(t *testing.T) string {
			c := goodClaims()
			c["iss"], c["aud"] = f.pools[poolA].issuer, "another-client"
			return sign(t, f.pools[poolA].signer, c)
		}},
		{"right issuer, access token", func(t *testing.T) string {
			c := goodClaims()
			c["iss"], c["token_use"] = f.pools[poolA].issuer, "access"
			return sign(t, f.pools[poolA].signer, c)
		}},
		{"unsigned", func(t *testing.T) string {
			c := goodClaims()
			c["iss"] = f.pools[poolA].issuer
			return unsigned(t, c)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pin := &countingPin{}
			p := learningProvider(t, f, pin, nil)
			f.answer(tt.token(t))
			if _, err := exchange(p); !errors.Is(err, ErrInvalidIDToken) {
				t.Fatalf("Exchange = %v, want ErrInvalidIDToken", err)
			}
			if p.Issuer() != "" || pin.saves != 0 {
				t.Errorf("refused token pinned %q (%d saves)", p.Issuer(), pin.saves)
			}
			if n := evil.pools[poolA].discHits.Load(); n != 0 {
				t.Errorf("the foreign issuer was contacted (%d discoveries)", n)
			}
			// The provider still learns from a proper token afterwards.
			f.answer(f.idToken(t, poolA))
			if _, err := exchange(p); err != nil || p.Issuer() != f.pools[poolA].issuer {
				t.Errorf("proper sign-in after a refusal: %v, issuer %q", err, p.Issuer())
			}
		})
	}
}

func TestLearnIssuerConcurrentFirstSignIns(t *testing.T) {
	t.Run("same pool: all succeed, pinned once", func(t *testing.T) {
		f := newCognitoFake(t, poolA)
		f.discDelay = 50 * time.Millisecond
		pin := &countingPin{}
		p := learningProvider(t, f, pin, nil)
		f.answer(f.idToken(t, poolA))
		const n = 8
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				_, err := exchange(p)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent first sign-in: %v", err)
			}
		}
		if pin.saves != 1 || p.Issuer() != f.pools[poolA].issuer {
			t.Errorf("%d saves, issuer %q; want one save of %q", pin.saves, p.Issuer(), f.pools[poolA].issuer)
		}
		if d := f.pools[poolA].discHits.Load(); d != 1 {
			t.Errorf("discovery fetched %d times, want once (the learner's, adopted after pinning)", d)
		}
	})
	t.Run("two pools at once: exactly one wins", func(t *testing.T) {
		f := newCognitoFake(t, poolA, poolB)
		f.discDelay = 50 * time.Millisecond
		pin := &countingPin{}
		p := learningProvider(t, f, pin, nil)
		tokA, tokB := f.idToken(t, poolA), f.idToken(t, poolB)
		var calls atomic.Int32
		f.op.setToken(func(w http.ResponseWriter, r *http.Request) {
			tok := tokA
			if calls.Add(1)%2 == 0 {
				tok = tokB
			}
			tokenOK(tok, nil)(w, r)
		})
		const n = 8
		var ok atomic.Int32
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if _, err := exchange(p); err == nil {
					ok.Add(1)
				} else if !errors.Is(err, ErrInvalidIDToken) {
					t.Errorf("unexpected error: %v", err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != n/2 || pin.saves != 1 {
			t.Errorf("%d of %d sign-ins succeeded with %d saves; want %d and one save", ok.Load(), n, pin.saves, n/2)
		}
		if iss := p.Issuer(); iss != f.pools[poolA].issuer && iss != f.pools[poolB].issuer {
			t.Errorf("pinned %q, want one of the pools", iss)
		}
	})
}

func TestLearnIssuerSaveFailureKeepsSigningIn(t *testing.T) {
	f := newCognitoFake(t, poolA)
	var logs bytes.Buffer
	pin := &countingPin{fail: errors.New("disk full")}
	p := learningProvider(t, f, pin, slog.New(slog.NewTextHandler(&logs, nil)))
	f.answer(f.idToken(t, poolA))
	if _, err := exchange(p); err != nil {
		t.Fatalf("sign-in with an unwritable pin: %v", err)
	}
	if p.Issuer() != f.pools[poolA].issuer || !strings.Contains(logs.String(), "disk full") {
		t.Errorf("issuer %q; log:\n%s", p.Issuer(), logs.String())
	}
}
