package bff_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authbff/authbff/bff"
)

// TestUpstreamPolicyRules: each UpstreamPolicies rule names its field.
func TestUpstreamPolicyRules(t *testing.T) {
	okta := []bff.Provider{{ID: "okta", Issuer: "https://idp.example.com", ClientID: "x", ClientSecret: "y"}}
	ups := map[string]string{"api": "https://api.example.com"}
	for _, tc := range []struct {
		name string
		pol  map[string]bff.UpstreamPolicy
		want string
	}{
		{"ok", map[string]bff.UpstreamPolicy{"API": {Token: bff.UpstreamTokenClient, Resource: []string{"https://api.example.com"}, Provider: "okta"}}, ""},
		{"unknown upstream", map[string]bff.UpstreamPolicy{"other": {}}, `UpstreamPolicies["other"]: no upstream`},
		{"token", map[string]bff.UpstreamPolicy{"api": {Token: "admin"}}, `UpstreamPolicies["api"].Token "admin"`},
		{"resource", map[string]bff.UpstreamPolicy{"api": {Resource: []string{"api"}}}, `UpstreamPolicies["api"].Resource[0]`},
		{"resource fragment", map[string]bff.UpstreamPolicy{"api": {Resource: []string{"https://a.example#x"}}}, `Resource[0]`},
		{"provider", map[string]bff.UpstreamPolicy{"api": {Provider: "nope"}}, `UpstreamPolicies["api"].Provider "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := bff.New(context.Background(), bff.Options{Providers: okta, Upstreams: ups, UpstreamPolicies: tc.pol, Logger: slog.New(slog.DiscardHandler)})
			if err == nil {
				defer b.Close()
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted, want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

// TestSessionAccessTokenForAndTransport: a host handler behind Require
// gets each upstream's own token with AccessTokenFor, and Session.Client
// calls the upstream with it, retrying once with a new token after a 401.
func TestSessionAccessTokenForAndTransport(t *testing.T) {
	as := newRSAS(t)
	a := newAudEcho(t, "https://a.example")
	app := startProv(t, mergeEnv(as.env(), map[string]string{
		"UPSTREAM_A": a.URL(), "UPSTREAM_A_RESOURCE": "https://a.example",
		"UPSTREAM_C": a.URL(), "UPSTREAM_C_TOKEN": "client", "UPSTREAM_C_RESOURCE": "https://a.example",
	}))
	br := newProvBrowser(t)
	br.signIn(app, "okta", nil)
	rejectOnce := false
	h := app.BFF.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := bff.SessionFrom(r.Context())
		out := map[string]any{}
		for _, up := range []string{"a", "c"} {
			tok, err := s.AccessTokenFor(r.Context(), up)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			out[up] = jwtClaims(tok)
		}
		if _, err := s.AccessTokenFor(r.Context(), "zzz"); err == nil {
			out["unknown"] = "accepted"
		}
		if rejectOnce {
			a.setResource("https://nobody.example") // the next token is refused once
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, a.URL()+"/x", nil)
		resp, err := s.Client("a").Do(req)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		resp.Body.Close()
		out["status"] = resp.StatusCode
		writeJSON(w, out)
	}))
	call := func() map[string]any {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, app.URL+"/host", nil)
		for _, c := range br.hc.Jar.Cookies(req.URL) {
			req.AddCookie(c)
		}
		req.Header.Set("X-CSRF", "1")
		req.Header.Set("Origin", app.URL)
		h.ServeHTTP(rec, req)
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("host handler: %d %s", rec.Code, rec.Body)
		}
		return m
	}
	m := call()
	ca, _ := m["a"].(map[string]any)
	cc, _ := m["c"].(map[string]any)
	if ca["aud"] != "https://a.example" || ca["sub"] != "alice" || cc["sub"] != rsClientID || m["unknown"] != nil || m["status"] != 200.0 {
		t.Fatalf("host handler saw %v", m)
	}
	before := as.grantCount("refresh_token", "https://a.example")
	rejectOnce = true
	m = call()
	// The echo now refuses every token (its resource changed): one forced
	// new token and one retry, then the 401 stands.
	if m["status"] != 401.0 || as.grantCount("refresh_token", "https://a.example")-before != 1 {
		t.Fatalf("after a 401: status %v, %d new grants; want 401 after exactly one retry", m["status"], as.grantCount("refresh_token", "https://a.example")-before)
	}
}
