package bff_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
)

// TestRequireStepUp: a host handler behind RequireStepUp answers a session
// that falls short (acr, then max_age) with the RFC 9470 challenge, and
// runs for one that meets it.
func TestRequireStepUp(t *testing.T) {
	op := newProvOP(t, nil)
	app := startProv(t, map[string]string{"AUTH_ACME_ISSUER": op.Issuer(), "AUTH_ACME_ID": "c", "AUTH_ACME_SECRET": "s"})
	op.Claims = func(nonce string) map[string]any {
		return idClaims(op.Issuer(), "u1", "c", nonce, map[string]any{"acr": "urn:mfa", "auth_time": time.Now().Add(-10 * time.Minute).Unix()})
	}
	b := newProvBrowser(t)
	b.signIn(app, "acme", nil)
	ran := 0
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran++ })
	mux := http.NewServeMux()
	mux.Handle("/mfa", app.BFF.RequireStepUp(bff.StepUp{ACR: []string{"urn:mfa"}}, ok))
	mux.Handle("/hwk", app.BFF.RequireStepUp(bff.StepUp{ACR: []string{"urn:hwk"}}, ok))
	mux.Handle("/recent", app.BFF.RequireStepUp(bff.StepUp{MaxAge: 5 * time.Minute}, ok))
	host := httptest.NewServer(mux)
	t.Cleanup(host.Close)
	call := func(path string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, host.URL+path, nil)
		req.Header.Set("X-CSRF", "1")
		req.Header.Set("Origin", app.URL)
		resp, _ := b.do(req)
		return resp
	}
	if r := call("/mfa"); r.StatusCode != http.StatusOK || ran != 1 {
		t.Fatalf("/mfa: %d", r.StatusCode)
	}
	if r := call("/hwk"); r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), `acr_values="urn:hwk"`) {
		t.Fatalf("/hwk: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	if r := call("/recent"); r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") != `Bearer error="insufficient_user_authentication", max_age=300` {
		t.Fatalf("/recent: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	if ran != 1 {
		t.Fatalf("next ran %d times", ran)
	}
	_, err := newBFF(bff.Options{Upstreams: map[string]string{"api": "https://api.example.com"},
		UpstreamStepUp: map[string]bff.StepUp{"nope": {ACR: []string{"urn:mfa"}}, "api": {ACR: []string{"bad value"}, MaxAge: -1}}})
	for _, want := range []string{`UpstreamStepUp["nope"]: no upstream`, `UpstreamStepUp["api"].ACR[0]`, `UpstreamStepUp["api"].MaxAge`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
