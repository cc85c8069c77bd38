package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/redistest"
)

// doctorOut runs `authbff doctor args...` with exactly env.
func doctorOut(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"doctor"}, args...), config.Source{Environ: append(env, "AUTHBFF_DATA_DIR="+t.TempDir(), "SESSION_STORE=memory"), NoFiles: true}, &out, &errb)
	if errb.Len() != 0 {
		t.Errorf("doctor wrote to stderr: %s", errb.String())
	}
	return out.String(), code
}

// checkLines: every FAIL line ends with a fix, no line is over 300 bytes.
func checkLines(t *testing.T, out string) (fails int) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if len(l) > 300 {
			t.Errorf("line of %d bytes: %s", len(l), l)
		}
		if strings.HasPrefix(l, "FAIL") {
			fails++
			if !strings.Contains(l, "fix:") {
				t.Errorf("FAIL line without fix: %s", l)
			}
		}
	}
	return fails
}

// TestDoctorUnresolvableDomain: the README's headline configuration with
// a COGNITO_DOMAIN that does not resolve.
func TestDoctorUnresolvableDomain(t *testing.T) {
	env := []string{"COGNITO_CLIENT_ID=abc", "COGNITO_CLIENT_SECRET=s", "COGNITO_DOMAIN=authbff-doctor-nowhere.invalid",
		"NEXTAUTH_URL=http://localhost:3000", "NEXTAUTH_SECRET=" + strings.Repeat("d", 32), "NEXTAUTH_ULR=http://localhost:3000"}
	out, code := doctorOut(t, env)
	if code != 1 || checkLines(t, out) == 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"cannot resolve authbff-doctor-nowhere.invalid: check COGNITO_DOMAIN (the Domain name of the user pool's app integration) and this machine's DNS",
		"WARN [config] NEXTAUTH_ULR", "did you mean NEXTAUTH_URL?",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "client_id=") || strings.Contains(out, "redirect_uri") {
		t.Errorf("a URL keeps its query:\n%s", out)
	}

	js, code := doctorOut(t, env, "--json")
	var v struct {
		OK     bool
		Checks []struct{ Status, Scope, Message, Fix string }
	}
	if err := json.Unmarshal([]byte(js), &v); err != nil || code != 1 || v.OK || len(v.Checks) == 0 {
		t.Fatalf("--json: exit %d, %v:\n%s", code, err, js)
	}
	for _, c := range v.Checks {
		if c.Status == "FAIL" && c.Fix == "" {
			t.Errorf("--json failure without a fix: %+v", c)
		}
	}
}

// TestDoctorConfigProblems: configuration problems are FAIL lines with
// their fixes too.
func TestDoctorConfigProblems(t *testing.T) {
	out, code := doctorOut(t, []string{"COGNITO_CLIENT_ID=abc", "COGNITO_DOMIAN=x.example.com", "NEXTAUTH_URL=http://localhost:3000"})
	if code != 1 || checkLines(t, out) == 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if !strings.Contains(out, "FAIL [config] COGNITO_ISSUER: is not set (COGNITO_DOMIAN is set: did you mean COGNITO_DOMAIN?)") {
		t.Errorf("the problem does not point at the typo:\n%s", out)
	}
}

// TestDoctorStoreWithTheDevIdP: with no provider configured (the
// development IdP, the README's first command) doctor still checks the
// session store: a Redis that evicts keys FAILs naming noeviction.
func TestDoctorStoreWithTheDevIdP(t *testing.T) {
	srv := redistest.StartWithOptions(t, redistest.Options{Args: []string{"--maxmemory-policy", "allkeys-lru"}})
	var out, errb bytes.Buffer
	code := run([]string{"doctor"}, config.Source{Environ: []string{"AUTHBFF_DATA_DIR=" + t.TempDir(), "SESSION_STORE=" + srv.URL}, NoFiles: true}, &out, &errb)
	if code != 1 || checkLines(t, out.String()) == 0 || !strings.Contains(out.String(), "noeviction") ||
		!strings.Contains(out.String(), "development IdP") {
		t.Fatalf("exit %d:\n%s%s", code, out.String(), errb.String())
	}
}
