package oidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Fuzz targets for what a hostile IdP (or anyone who can reach the
// back-channel logout endpoint, or craft a callback URL) sends. Seeds live
// in testdata/fuzz/<name>/ and run in every `go test`.

const (
	fuzzIssuer   = "https://idp.example.com/pool"
	fuzzClientID = "client-123"
)

func fuzzTime() time.Time { return time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC) }

// FuzzParseClaims decodes arbitrary claim sets (ID token, logout token and
// userinfo payloads): no panic, and what it accepts is well typed.
func FuzzParseClaims(f *testing.F) {
	f.Add([]byte(`{"iss":"https://idp.example.com/pool","sub":"u","aud":["client-123","x"],"exp":1.5e9,"iat":1700000000.25,"email_verified":"TRUE","cognito:groups":["a",1]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"exp":1e400}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseClaims(b)
		if err != nil {
			if c != nil {
				t.Fatal("claims returned with an error")
			}
			return
		}
		if c.Raw == nil {
			t.Fatal("Raw is nil")
		}
		for name, got := range map[string]string{"iss": c.Issuer, "sub": c.Subject, "azp": c.AuthorizedParty, "sid": c.SID} {
			if v, ok := c.Raw[name]; ok && v != got {
				t.Fatalf("%s = %q, raw %v", name, got, v)
			}
		}
		if _, ok := c.Raw["aud"]; !ok && c.Audience != nil {
			t.Fatal("aud invented")
		}
		for name, at := range map[string]time.Time{"exp": c.Expiry, "iat": c.IssuedAt} {
			if at.IsZero() {
				if _, ok := c.Raw[name]; ok {
					t.Fatalf("%s present but decoded as zero", name)
				}
				continue
			}
			if at.Before(time.Unix(0, 0)) || at.After(time.Unix(1e11, 0)) {
				t.Fatalf("%s = %v out of range", name, at)
			}
		}
	})
}

// FuzzValidateAuthResponse feeds arbitrary callback queries: a code is
// returned only from a single code and state with no error and no foreign
// iss; everything else is an *Error or ErrInvalidAuthResponse.
func FuzzValidateAuthResponse(f *testing.F) {
	f.Add("code=c&state=s", fuzzIssuer)
	f.Add("code=c&state=s&iss=https%3A%2F%2Fidp.example.com%2Fpool", fuzzIssuer)
	f.Add("error=access_denied&state=s", fuzzIssuer)
	f.Add("code=c&code=d&state=s", fuzzIssuer)
	f.Fuzz(func(t *testing.T, rawQuery, issuer string) {
		q, _ := url.ParseQuery(rawQuery) // as (*url.URL).Query does
		code, state, err := ValidateAuthResponse(q, issuer)
		for _, k := range []string{"code", "state", "error", "error_description", "iss"} {
			if len(q[k]) > 1 && !errors.Is(err, ErrInvalidAuthResponse) {
				t.Fatalf("repeated %s not refused as ErrInvalidAuthResponse: %v", k, err)
			}
		}
		if iss, ok := q["iss"]; ok && iss[0] != issuer && !errors.Is(err, ErrInvalidAuthResponse) {
			t.Fatalf("foreign iss %q not refused: %v", iss[0], err)
		}
		var ae *Error
		switch {
		case err == nil:
			if code == "" || state == "" || !slices.Equal(q["code"], []string{code}) || !slices.Equal(q["state"], []string{state}) {
				t.Fatalf("accepted code %q state %q from %v", code, state, q)
			}
			if _, ok := q["error"]; ok {
				t.Fatal("accepted a response carrying error")
			}
		case errors.As(err, &ae) && ae.Endpoint == EndpointAuthorization:
			if code != "" || len(q["error"]) != 1 || q.Get("code") != "" || ae.Code == "" {
				t.Fatalf("authorization Error %+v with code %q from %v", ae, code, q)
			}
			if state != q.Get("state") {
				t.Fatalf("authorization Error state %q, query state %q", state, q.Get("state"))
			}
		case errors.Is(err, ErrInvalidAuthResponse):
			if code != "" || state != "" {
				t.Fatalf("refused, yet returned code %q state %q", code, state)
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// fuzzProvider is a Provider for fuzzIssuer whose clock is fuzzTime; it
// makes no network call unless a token's signature is checked.
func fuzzProvider(t testing.TB, issuer string) *Provider {
	t.Helper()
	p, err := New(Config{
		ID: "fuzz", Issuer: issuer, ClientID: fuzzClientID,
		RedirectURL: "https://app.example.com/api/auth/callback/fuzz", Now: fuzzTime,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkAcceptedLogout fails unless c (accepted as a logout token's claims)
// meets every rule of Back-Channel Logout 1.0 section 2.6.
func checkAcceptedLogout(t *testing.T, c *Claims, issuer string) {
	t.Helper()
	now := fuzzTime()
	events, _ := c.Raw["events"].(map[string]any)
	_, isObj := events[BackchannelLogoutEvent].(map[string]any)
	_, hasNonce := c.Raw["nonce"]
	jti, _ := c.Raw["jti"].(string)
	switch {
	case c.Issuer != issuer:
		t.Fatalf("accepted iss %q", c.Issuer)
	case !slices.Contains(c.Audience, fuzzClientID):
		t.Fatalf("accepted aud %v", c.Audience)
	case c.IssuedAt.IsZero() || c.IssuedAt.After(now.Add(maxClockSkew)) || now.Sub(c.IssuedAt) > maxLogoutTokenAge+maxClockSkew:
		t.Fatalf("accepted iat %v", c.IssuedAt)
	case !c.Expiry.IsZero() && now.After(c.Expiry.Add(maxClockSkew)):
		t.Fatalf("accepted exp %v", c.Expiry)
	case c.Subject == "" && c.SID == "":
		t.Fatal("accepted without sub and sid")
	case hasNonce || !isObj || jti == "":
		t.Fatalf("accepted nonce=%v events=%v jti=%q", hasNonce, c.Raw["events"], jti)
	}
}

// FuzzLogoutClaims checks the logout token's claim rules on arbitrary
// (already signature-checked) payloads.
func FuzzLogoutClaims(f *testing.F) {
	p := fuzzProvider(f, fuzzIssuer)
	f.Add([]byte(`{"iss":"https://idp.example.com/pool","aud":"client-123","iat":1796112000,"jti":"j","sub":"u","events":{"http://schemas.openid.net/event/backchannel-logout":{}}}`))
	f.Add([]byte(`{"iss":"https://idp.example.com/pool","aud":"client-123","iat":1796112000,"jti":"j","sid":"s","nonce":"n","events":{"http://schemas.openid.net/event/backchannel-logout":{}}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		c, err := parseClaims(payload)
		if err != nil {
			return
		}
		if p.checkLogoutClaims(c) == nil {
			checkAcceptedLogout(t, c, fuzzIssuer)
		}
	})
}

// FuzzVerifyLogoutToken feeds arbitrary strings to the back-channel logout
// endpoint's verifier against a live (loopback) JWKS: only a token signed
// by the published key with valid claims is accepted, every refusal wraps
// ErrInvalidLogoutToken, and no input is mistaken for a JWKS outage.
func FuzzVerifyLogoutToken(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	pub, err := jwk.FromRaw(key.Public())
	if err != nil {
		f.Fatal(err)
	}
	_ = pub.Set(jwk.KeyIDKey, "k1")
	_ = pub.Set(jwk.AlgorithmKey, jwa.RS256)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	f.Cleanup(srv.Close)
	issuer := srv.URL + "/pool"
	mux.HandleFunc("GET /pool/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": issuer, "authorization_endpoint": srv.URL + "/authorize", "token_endpoint": srv.URL + "/token",
			"jwks_uri": issuer + "/jwks.json", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /pool/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		set := jwk.NewSet()
		_ = set.AddKey(pub)
		_ = json.NewEncoder(w).Encode(set)
	})
	p := fuzzProvider(f, issuer)
	signed := func(claims map[string]any) string {
		b, _ := json.Marshal(claims)
		hdr := jws.NewHeaders()
		_ = hdr.Set(jws.KeyIDKey, "k1")
		out, err := jws.Sign(b, jws.WithKey(jwa.RS256, key, jws.WithProtectedHeaders(hdr)))
		if err != nil {
			f.Fatal(err)
		}
		return string(out)
	}
	good := map[string]any{
		"iss": issuer, "aud": fuzzClientID, "iat": fuzzTime().Unix(), "jti": "j", "sub": "u",
		"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	}
	f.Add(signed(good))
	good["nonce"] = "n"
	f.Add(signed(good))
	f.Add("e30.e30.")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, raw string) {
		lc, err := p.VerifyLogoutToken(context.Background(), raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidLogoutToken) || errors.Is(err, ErrDiscovery) {
				t.Fatalf("refusal %v does not wrap ErrInvalidLogoutToken only", err)
			}
			return
		}
		if lc.JTI == "" || (lc.Subject == "" && lc.SID == "") || lc.IssuedAt.IsZero() {
			t.Fatalf("accepted %+v", lc)
		}
		// Accepted: it must have been signed by our key, so re-verify and
		// check its claims by the rules themselves.
		payload, err := jws.Verify([]byte(raw), jws.WithKey(jwa.RS256, pub))
		if err != nil {
			t.Fatalf("accepted a token our key did not sign: %v", err)
		}
		c, err := parseClaims(payload)
		if err != nil {
			t.Fatal(err)
		}
		checkAcceptedLogout(t, c, issuer)
	})
}
