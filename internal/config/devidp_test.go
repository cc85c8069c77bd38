package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDevIdPCommandReadsDotenvFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env.local"), []byte("DEVIDP_PORT=9333\nDEVIDP_REDIRECT_URIS=http://a/cb,http://b/cb\nLOG_FORMAT=json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadDevIdPCommand(Source{Getenv: func(k string) (string, bool) {
		if k == "DEVIDP_CLIENT_SECRET" {
			return "s", true
		}
		return "", false
	}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := &DevIdPCommand{Port: 9333, Host: "127.0.0.1", ClientID: "authbff-dev", ClientSecret: "s",
		RedirectURIs: []string{"http://a/cb", "http://b/cb"}, LogLevel: "info", LogFormat: "json"}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	if _, err := LoadDevIdPCommand(Source{Getenv: func(k string) (string, bool) { return "x", k == "DEVIDP_PORT" }, NoFiles: true}); err == nil {
		t.Fatal("a bad DEVIDP_PORT was accepted")
	}
}

// TestDevIdPFailsClosedInProduction (issue 19): with NODE_ENV=production
// and no provider, the development IdP is refused unless AUTHBFF_DEV_IDP=1;
// outside production the zero configuration still runs it.
func TestDevIdPFailsClosedInProduction(t *testing.T) {
	t.Run("production, no provider: refused", func(t *testing.T) {
		_, ps := load(t, "", "NODE_ENV=production")
		wantProblem(t, ps, "NODE_ENV", "no identity provider is configured")
		p, _ := problemFor(ps, "NODE_ENV")
		for _, name := range []string{"COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET", "COGNITO_ISSUER", "AUTH_<ID>_ISSUER", "AUTHBFF_DEV_IDP=1"} {
			if !strings.Contains(p.Fix, name) {
				t.Errorf("the fix does not name %s: %s", name, p.Fix)
			}
		}
	})
	t.Run("production, AUTHBFF_DEV_IDP=1: allowed", func(t *testing.T) {
		c, ps := load(t, "", "NODE_ENV=Production", "AUTHBFF_DEV_IDP=1")
		if ps != nil {
			t.Fatalf("unexpected problems:\n%s", ps.Error())
		}
		if !c.DevIdP || !c.DevIdPOptIn {
			t.Errorf("DevIdP %v, DevIdPOptIn %v", c.DevIdP, c.DevIdPOptIn)
		}
	})
	t.Run("production, a provider: no dev IdP problem", func(t *testing.T) {
		_, ps := load(t, "", "NODE_ENV=production", "NEXTAUTH_SECRET="+secret32,
			"AUTH_OKTA_ISSUER=https://dev.okta.com", "AUTH_OKTA_ID=cid")
		if ps != nil {
			t.Fatalf("unexpected problems:\n%s", ps.Error())
		}
	})
	t.Run("development: the zero configuration runs it", func(t *testing.T) {
		for _, env := range [][]string{nil, {"NODE_ENV=development"}} {
			c, ps := load(t, "", env...)
			if ps != nil || !c.DevIdP {
				t.Fatalf("%v: DevIdP %v, problems:\n%v", env, c.DevIdP, ps)
			}
		}
	})
	t.Run("bad AUTHBFF_DEV_IDP", func(t *testing.T) {
		_, ps := load(t, "", "AUTHBFF_DEV_IDP=sure")
		wantProblem(t, ps, "AUTHBFF_DEV_IDP", "")
	})
}

func TestDevIdPAllowCIDRs(t *testing.T) {
	c, ps := load(t, "", "DEVIDP_ALLOW_CIDRS=172.17.0.1/16, 10.1.2.3,fd00::/8")
	if ps != nil {
		t.Fatalf("unexpected problems:\n%s", ps.Error())
	}
	if want := []string{"172.17.0.0/16", "10.1.2.3/32", "fd00::/8"}; !reflect.DeepEqual(c.DevIdPAllowCIDRs, want) {
		t.Errorf("DevIdPAllowCIDRs %v, want %v", c.DevIdPAllowCIDRs, want)
	}
	_, ps = load(t, "", "DEVIDP_ALLOW_CIDRS=docker0")
	wantProblem(t, ps, "DEVIDP_ALLOW_CIDRS", "neither an IP address nor a CIDR")
}
