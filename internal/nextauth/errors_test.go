package nextauth

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/metrics"
	"github.com/authbff/authbff/internal/session"
)

// TestCodesIsTheWholeVocabulary: Codes lists every constant of type Code
// declared in the package (so a new code cannot miss bff's table, whose
// test walks Codes), once each, every one with a message for people.
func TestCodesIsTheWholeVocabulary(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, f := range pkgs["nextauth"].Files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Code" {
					for _, n := range vs.Names {
						declared[n.Name] = true
					}
				}
			}
		}
	}
	listed := map[Code]bool{}
	for _, c := range Codes() {
		if listed[c] {
			t.Errorf("Codes lists %q twice", c)
		}
		listed[c] = true
		if c.Message() == "" || c.Message() == "Unable to sign in." && c != CodeDefault {
			t.Errorf("code %q has no message of its own", c)
		}
	}
	if len(declared) != len(listed) {
		t.Errorf("%d constants of type Code are declared, Codes lists %d: add the new ones to Codes", len(declared), len(listed))
	}
	if len(declared) < 30 {
		t.Fatalf("found %d Code constants: the scan is broken", len(declared))
	}
}

// TestErrorCarriesNoStatus: the core's error says what went wrong, not how
// it is answered: no field of Error is an HTTP status.
func TestErrorCarriesNoStatus(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "Error" {
			return true
		}
		for _, fl := range ts.Type.(*ast.StructType).Fields.List {
			for _, name := range fl.Names {
				if strings.Contains(strings.ToLower(name.Name), "status") {
					t.Errorf("nextauth.Error has a field %s: statuses belong to bff's table", name.Name)
				}
			}
		}
		return false
	})
	files, _ := fs.Glob(osDirFS, "*.go")
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := fs.ReadFile(osDirFS, name)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			if strings.Contains(line, "http.Status") {
				t.Errorf("%s:%d chooses an HTTP status in the core: %s", name, i+1, strings.TrimSpace(line))
			}
		}
	}
}

func TestUnavailableIsAnOutageCode(t *testing.T) {
	for _, c := range Codes() {
		want := c == CodeStoreUnavailable || c == CodeKeysUnavailable
		if got := NewError(c, "").Unavailable(); got != want {
			t.Errorf("%s: Unavailable() = %v, want %v", c, got, want)
		}
	}
	if !IsUnavailable(fmt.Errorf("load: %w", session.ErrUnavailable)) || !IsUnavailable(storeErr(errors.New("boom"))) {
		t.Error("a store fault is not Unavailable")
	}
	if IsUnavailable(Unauthenticated("")) || IsUnavailable(ErrSessionEnded) {
		t.Error("a refusal is Unavailable")
	}
}

// TestSessionEndedIsDecidedByTheCore: a refresh the IdP refuses
// (invalid_grant: the refresh token was revoked) ends the session, and the
// core says so with ErrSessionEnded; an outage or a plain refusal never
// does.
func TestSessionEndedIsDecidedByTheCore(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	j := jar{}
	f.signIn(t, j, "/")
	tok := j[f.core.Names().Session]
	s, err := f.core.Sessions().Load(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	f.core.RevokeRefreshToken(ctx, "cognito", s.Data.Tokens.RefreshToken)
	s2, err := f.core.ForceRefresh(ctx, tok, s)
	if !SessionEnded(err) || s2 != nil || IsUnavailable(err) {
		t.Fatalf("a refresh the IdP refused: session kept %v, err %v; want ErrSessionEnded", s2 != nil, err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeUnauthenticated {
		t.Fatalf("ended session answer: %v", err)
	}
	if _, err := f.core.Sessions().Load(ctx, tok); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the session is still there: %v", err)
	}
	for _, err := range []error{Unauthenticated(""), unavailable(session.ErrUnavailable), NewError(CodeAccessTokenExpired, ""), nil} {
		if SessionEnded(err) {
			t.Errorf("SessionEnded(%v) = true", err)
		}
	}
}

// TestBackchannelMetricsByCause: a replayed logout token is counted as
// "replayed" whatever its message says; a bad one as "invalid".
func TestBackchannelMetricsByCause(t *testing.T) {
	f := newFixture(t, nil)
	m := metrics.New()
	f.core.metrics = m
	ctx := context.Background()
	j := jar{}
	f.signIn(t, j, "/")
	s, err := f.core.Sessions().Load(ctx, j[f.core.Names().Session])
	if err != nil {
		t.Fatal(err)
	}
	lt, err := f.idp.LogoutToken("app", s.Data.Subject, "")
	if err != nil {
		t.Fatal(err)
	}
	r := &Request{Cookies: jar{}, Query: url.Values{}}
	if _, err := f.core.BackchannelLogout(ctx, r, "cognito", lt); err != nil {
		t.Fatal(err)
	}
	_, err = f.core.BackchannelLogout(ctx, r, "cognito", lt)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalidRequest || !errors.Is(err, errLogoutReplayed) {
		t.Fatalf("replayed logout token: %v", err)
	}
	if _, err := f.core.BackchannelLogout(ctx, r, "cognito", "not-a-jwt"); !errors.As(err, &e) || e.Code != CodeInvalidRequest {
		t.Fatalf("invalid logout token: %v", err)
	}
	got := map[string]float64{}
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range fams {
		if fam.GetName() != "authbff_backchannel_logouts_total" {
			continue
		}
		for _, mt := range fam.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "result" {
					got[l.GetValue()] += mt.GetCounter().GetValue()
				}
			}
		}
	}
	want := map[string]float64{metrics.BackchannelOK: 1, metrics.BackchannelReplayed: 1, metrics.BackchannelInvalid: 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("backchannel %s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if keys := slices.Collect(func(yield func(string) bool) {
		for k, v := range got {
			if v != 0 && want[k] == 0 && !yield(k) {
				return
			}
		}
	}); len(keys) != 0 {
		t.Errorf("unexpected results counted: %v", keys)
	}
}

var osDirFS = os.DirFS(".")
