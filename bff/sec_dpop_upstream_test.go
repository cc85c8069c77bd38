package bff_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/authbff/authbff/bff"
)

// secJWTClaims verifies a JWT access token with the provider's JWKS and
// returns its claims.
func secJWTClaims(t *testing.T, iss, token string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	set, err := jwk.Fetch(ctx, iss+"/jwks")
	if err != nil {
		t.Fatalf("provider's jwks: %v", err)
	}
	payload, err := jws.Verify([]byte(token), jws.WithKeySet(set, jws.WithInferAlgorithmFromKey(true)))
	if err != nil {
		t.Fatalf("the upstream's token is not a JWT of the provider: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// secBoundTo checks that token is a JWT for resource bound (cnf.jkt) to
// the key whose thumbprint is jkt.
func secBoundTo(t *testing.T, iss, token, resource, jkt string) {
	t.Helper()
	c := secJWTClaims(t, iss, token)
	cnf, _ := c["cnf"].(map[string]any)
	if c["aud"] != resource || cnf == nil || cnf["jkt"] != jkt || jkt == "" {
		t.Fatalf("the upstream's token has aud %v, cnf %v; want aud %s and cnf.jkt %s (the proof's key)", c["aud"], c["cnf"], resource, jkt)
	}
}

// TestSecDPoPUpstreamPolicy: a DPoP-bound session (AUTH_FAPI_DPOP=1 at
// panva's oidc-provider with dpop_bound_access_tokens and nonces required)
// calling upstreams with a token policy (UPSTREAM_<NAME>_RESOURCE, RFC
// 8707): the narrowing refresh grant carries a proof of the session's key
// (the provider refuses it otherwise), and the upstream gets Authorization:
// DPoP with a fresh proof (htm, htu, ath, its own nonce after one
// use_dpop_nonce challenge) for a JWT whose aud is its resource and whose
// cnf.jkt is the proof's key; an upstream 401 gets one retry with a new
// narrowed token and a fresh proof carrying the remembered nonce; a
// WebSocket upgrade to such an upstream and a host handler's
// Session.Client(upstream) call carry DPoP the same way. authbff's client
// credentials token (TOKEN=client) is bound to the instance's own key.
func TestSecDPoPUpstreamPolicy(t *testing.T) {
	ln, appURL := secListen(t)
	const clientID, resource = "authbff-dpop-up", "https://api.example"
	iss := secStartPanva(t, "CLIENT_ID="+clientID, "REDIRECT_URI="+appURL+"/api/auth/callback/fapi",
		"JWKS_URI="+appURL+"/api/auth/jwks", "DPOP_BOUND=1", "DPOP_NONCE=1", "RESOURCES="+resource)
	keyFile := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(keyFile, []byte(secKeyPEM(t, false)), 0o600); err != nil {
		t.Fatal(err)
	}
	echo := newSecDPoPEcho(t)
	rec := &secRecorder{}
	app := secServe(t, ln, map[string]string{
		"AUTH_FAPI_ISSUER": iss, "AUTH_FAPI_ID": clientID, "AUTH_FAPI_AUTH_STYLE": "private_key_jwt",
		"AUTH_FAPI_CLIENT_KEY_FILE": keyFile, "AUTH_FAPI_CLIENT_KEY_ID": "k1", "AUTH_FAPI_DPOP": "1",
		"AUTH_FAPI_SCOPE": "openid profile api:read", "SESSION_STORE": "memory", "AUTH_FEDERATED_SIGNOUT": "0",
		"UPSTREAM_API": echo.srv.URL, "UPSTREAM_API_RESOURCE": resource, "UPSTREAM_API_SCOPE": "api:read",
		"UPSTREAM_LIVE": echo.srv.URL, "UPSTREAM_LIVE_RESOURCE": resource, "UPSTREAM_LIVE_SCOPE": "api:read", "UPSTREAM_LIVE_WEBSOCKET": "1",
		"UPSTREAM_SVC": echo.srv.URL, "UPSTREAM_SVC_RESOURCE": resource, "UPSTREAM_SVC_SCOPE": "api:read", "UPSTREAM_SVC_TOKEN": "client",
	}, rec.client())

	b := newProvBrowser(t)
	cb := secInteract(b, app, b.startSignIn(app, "fapi", nil), "alice")
	if resp, _ := b.get(cb); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != app.URL+"/account" {
		t.Fatalf("sign-in: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), app.Logs)
	}

	// The policy upstream: a narrowed token, DPoP-bound, sent as DPoP.
	resp, body := secProxyGet(b, app, "api/orders")
	if resp.StatusCode != http.StatusOK || len(echo.accepted) != 1 {
		t.Fatalf("proxied call to a resource upstream: %d %s (the echo refused: %v)", resp.StatusCode, body, echo.refused)
	}
	first := echo.accepted[0]
	if first.HTU != echo.srv.URL+"/orders" || echo.challenges != 1 {
		t.Fatalf("htu %s, %d use_dpop_nonce challenges (want 1)", first.HTU, echo.challenges)
	}
	secBoundTo(t, iss, first.Token, resource, first.JKT)
	grant := rec.waitCall(t, "narrowing refresh", func(c secCall) bool {
		return c.Form.Get("grant_type") == "refresh_token" && c.Form.Get("resource") == resource && c.Status == http.StatusOK
	})
	if grant.Header.Get("DPoP") == "" {
		t.Fatal("the narrowing refresh grant carried no DPoP proof")
	}
	if resp, body := secProxyGet(b, app, "api/orders"); resp.StatusCode != http.StatusOK || len(echo.accepted) != 2 ||
		echo.accepted[1].Token != first.Token || echo.challenges != 1 {
		t.Fatalf("second call: %d %s (accepted %d, challenges %d): the stored token and the remembered nonce", resp.StatusCode, body, len(echo.accepted), echo.challenges)
	}

	// The upstream refuses the token: one retry with a new narrowed token
	// and a fresh proof (with the nonce it already gave: no new challenge).
	echo.mu.Lock()
	echo.revoked[first.Token] = true
	echo.mu.Unlock()
	resp, body = secProxyGet(b, app, "api/orders")
	if resp.StatusCode != http.StatusOK || len(echo.accepted) != 3 {
		t.Fatalf("after the upstream's 401: %d %s (the echo refused: %v)", resp.StatusCode, body, echo.refused)
	}
	retried := echo.accepted[2]
	if retried.Token == first.Token || retried.JKT != first.JKT || echo.challenges != 1 {
		t.Fatalf("the retry: new token %v, key %s (want %s), %d challenges", retried.Token != first.Token, retried.JKT, first.JKT, echo.challenges)
	}
	secBoundTo(t, iss, retried.Token, resource, first.JKT)
	if len(echo.refused) != 1 || echo.refused[0] != "revoked token" {
		t.Fatalf("the echo refused %v, want only the revoked token once", echo.refused)
	}

	// A WebSocket to a policy upstream: the handshake carries DPoP (a fresh
	// proof for the upgrade's GET).
	c, wresp, err := wsDial(t, b, app, "live/feed", app.URL)
	if err != nil {
		st := 0
		if wresp != nil {
			st = wresp.StatusCode
		}
		t.Fatalf("WebSocket to a DPoP policy upstream: %d %v (the echo refused: %v)", st, err, echo.refused)
	}
	wsEchoRoundTrip(t, c, "hello")
	c.CloseNow()
	if n := len(echo.accepted); n != 4 || echo.accepted[3].HTU != echo.srv.URL+"/feed" || echo.accepted[3].JKT != first.JKT {
		t.Fatalf("the upgrade: accepted %d, last %+v", n, echo.accepted[n-1])
	}
	secBoundTo(t, iss, echo.accepted[3].Token, resource, first.JKT)

	// A host handler calls the policy upstream with Session.Client.
	host := httptest.NewServer(app.BFF.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := bff.SessionFrom(r.Context())
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, echo.srv.URL+"/host", nil)
		resp, err := s.Client("api").Do(req)
		if err != nil {
			t.Errorf("host call: %v", err)
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	})))
	t.Cleanup(host.Close)
	req, _ := http.NewRequest(http.MethodGet, host.URL+"/x", nil)
	req.Header.Set("X-CSRF", "1")
	req.Header.Set("Origin", app.URL)
	if resp, _ := b.do(req); resp.StatusCode != http.StatusOK || len(echo.accepted) != 5 {
		t.Fatalf("host handler's Session.Client call: %d (accepted %d, refused %v)", resp.StatusCode, len(echo.accepted), echo.refused)
	}
	if a := echo.accepted[4]; a.JKT != first.JKT || !strings.HasSuffix(a.HTU, "/host") {
		t.Fatalf("host call %+v", a)
	}
	secBoundTo(t, iss, echo.accepted[4].Token, resource, first.JKT)

	// authbff's own client credentials token (TOKEN=client) at a provider
	// configured for DPoP: asked for with a proof of the instance's key
	// (this provider refuses the grant otherwise) and sent as DPoP.
	for i := range 2 {
		if resp, body := secProxyGet(b, app, "svc/jobs"); resp.StatusCode != http.StatusOK || len(echo.accepted) != 6+i {
			t.Fatalf("client token call %d: %d %s (refused %v)", i, resp.StatusCode, body, echo.refused)
		}
	}
	svc := echo.accepted[5]
	if sub := secJWTClaims(t, iss, svc.Token)["sub"]; sub != clientID || svc.JKT == first.JKT || echo.accepted[6].Token != svc.Token {
		t.Fatalf("client token: sub %v, instance key = session key %v, reused %v", sub, svc.JKT == first.JKT, echo.accepted[6].Token == svc.Token)
	}
	secBoundTo(t, iss, svc.Token, resource, svc.JKT)
	if len(echo.refused) != 1 {
		t.Fatalf("the echo refused %v", echo.refused)
	}
}
