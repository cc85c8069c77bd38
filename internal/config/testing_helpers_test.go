package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// secret32 is a valid 32-byte secret for tests.
const secret32 = "0123456789abcdef0123456789abcdef"

// load runs Load with kv as the real environment and dir (a fresh temp dir
// when "") as the dotenv directory. It fails the test if the error is not
// nil or *Problems.
func load(t *testing.T, dir string, kv ...string) (*Config, Problems) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	c, err := Load(Source{Environ: kv, Dir: dir})
	if c == nil {
		t.Fatalf("Load returned a nil Config (err %v)", err)
	}
	if err == nil {
		return c, nil
	}
	var ps *Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Load error %T is not *Problems: %v", err, err)
	}
	if len(*ps) == 0 {
		t.Fatalf("Load returned an empty *Problems")
	}
	return c, *ps
}

// mustLoad is load that fails the test on any problem.
func mustLoad(t *testing.T, kv ...string) *Config {
	t.Helper()
	c, ps := load(t, "", kv...)
	if ps != nil {
		t.Fatalf("unexpected problems:\n%s", ps.Error())
	}
	return c
}

// problemFor returns the first problem about variable v.
func problemFor(ps Problems, v string) (Problem, bool) {
	i := slices.IndexFunc(ps, func(p Problem) bool { return p.Var == v })
	if i < 0 {
		return Problem{}, false
	}
	return ps[i], true
}

// wantProblem fails unless ps has a problem on v whose message contains
// msg, and checks it carries a fix.
func wantProblem(t *testing.T, ps Problems, v, msg string) {
	t.Helper()
	p, ok := problemFor(ps, v)
	if !ok {
		t.Fatalf("no problem on %s; got:\n%s", v, ps.Error())
	}
	if !strings.Contains(p.Message, msg) {
		t.Errorf("problem on %s = %q, want it to mention %q", v, p.Message, msg)
	}
	if p.Fix == "" {
		t.Errorf("problem on %s has no fix", v)
	}
}
