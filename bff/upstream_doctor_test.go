package bff_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/bffhook"
	"github.com/authbff/authbff/internal/doctor"
	"github.com/authbff/authbff/internal/nextauth"
)

// TestDoctorChecksUpstreamClientTokens: doctor asks the provider for each
// client token with a client credentials grant, fails when it refuses,
// and never prints a token.
func TestDoctorChecksUpstreamClientTokens(t *testing.T) {
	as := newRSAS(t)
	o, err := provOptions(t, mergeEnv(as.env(), map[string]string{
		"UPSTREAM_C": "https://c.example", "UPSTREAM_C_TOKEN": "client", "UPSTREAM_C_RESOURCE": "https://c.example",
	}), "http://127.0.0.1:3000")
	if err != nil {
		t.Fatal(err)
	}
	set, providers, err := bffhook.Resolve(o)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	check := func(set *nextauth.Settings, providers []nextauth.Provider, ups []doctor.Upstream) bool {
		r := &doctor.Report{}
		doctor.CheckUpstreamPolicies(context.Background(), r, set, providers, ups, nil)
		r.WriteText(&out)
		return r.OK()
	}
	ups := []doctor.Upstream{{Name: "c", Token: "client", Params: url.Values{"resource": {"https://c.example"}}}, {Name: "u", Token: "user"}}
	if !check(set, providers, ups) {
		t.Fatalf("doctor failed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "ok   [upstream c] client credentials grant at okta answers a token") || strings.Contains(out.String(), "eyJ") {
		t.Fatalf("doctor said:\n%s", out.String())
	}
	// Discovery without the client credentials grant: refused before asking.
	as.setGrantTypes([]string{"authorization_code", "refresh_token"})
	set2, providers2, _ := bffhook.Resolve(o) // a fresh client: discovery is read again
	out.Reset()
	if check(set2, providers2, ups[:1]) || !strings.Contains(out.String(), "does not list the client_credentials grant") {
		t.Fatalf("a provider without client credentials passed:\n%s", out.String())
	}
	as.setGrantTypes(nil)
	providers[0].ClientSecret = "wrong"
	out.Reset()
	if check(set, providers, ups[:1]) || !strings.Contains(out.String(), "FAIL [upstream c]") {
		t.Fatalf("a refused client credentials grant passed:\n%s", out.String())
	}
}

// TestCheckUpstreamsAtStartUp: BFF.CheckUpstreams (the binary refuses to
// start on it) names an upstream whose grant the provider's discovery does
// not list, passes one it lists, and lets an unreachable provider through.
func TestCheckUpstreamsAtStartUp(t *testing.T) {
	as := newRSAS(t)
	env := mergeEnv(as.env(), map[string]string{
		"UPSTREAM_C": "https://c.example", "UPSTREAM_C_TOKEN": "client",
		"UPSTREAM_A": "https://a.example", "UPSTREAM_A_RESOURCE": "https://a.example",
	})
	if err := startProv(t, env).BFF.CheckUpstreams(context.Background()); err != nil {
		t.Fatalf("refused: %v", err)
	}
	as.setGrantTypes([]string{"authorization_code", "refresh_token"})
	err := startProv(t, env).BFF.CheckUpstreams(context.Background())
	if err == nil || !strings.Contains(err.Error(), `UpstreamPolicies["c"]`) || strings.Contains(err.Error(), `["a"]`) {
		t.Fatalf("CheckUpstreams = %v, want c refused (no client_credentials grant) and a accepted", err)
	}
	app := startProv(t, env)
	as.srv.Close()
	if err := app.BFF.CheckUpstreams(context.Background()); err != nil {
		t.Fatalf("an unreachable provider refused the start: %v", err)
	}
}
