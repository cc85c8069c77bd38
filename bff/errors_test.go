package bff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/session"
)

// TestEveryCodeHasAnAnswer walks nextauth's whole vocabulary through the
// one table: every code has an error status and a message, the table holds
// nothing else, and every outage is a 503.
func TestEveryCodeHasAnAnswer(t *testing.T) {
	codes := nextauth.Codes()
	known := map[nextauth.Code]bool{}
	for _, c := range codes {
		known[c] = true
		a, ok := answers[c]
		if !ok {
			t.Errorf("code %q has no answer in the table (bff/errors.go)", c)
			continue
		}
		if a.status < 400 || a.status > 599 || http.StatusText(a.status) == "" {
			t.Errorf("code %q answers status %d", c, a.status)
		}
		if c.Message() == "" {
			t.Errorf("code %q has no message", c)
		}
		if a.page != 0 && !c.IsContract() {
			t.Errorf("code %q is not shown on the error page but has a page status", c)
		}
		if nextauth.NewError(c, "").Unavailable() && a.status != http.StatusServiceUnavailable {
			t.Errorf("outage code %q answers %d, want 503", c, a.status)
		}
	}
	for c := range answers {
		if !known[c] {
			t.Errorf("the table answers %q, which is not in nextauth.Codes()", c)
		}
	}
}

// TestErrorPageStatuses: GET /error answers the contract's statuses.
func TestErrorPageStatuses(t *testing.T) {
	for code, want := range map[string]int{
		"Configuration": 500, "AccessDenied": 403, "Verification": 403,
		"OAuthSignin": 200, "OAuthCallback": 200, "Callback": 200, "SessionRequired": 200, "Default": 200,
		"MissingCSRF": 200, "OAuthCallbackError": 200, "Whatever": 200, "": 200,
		"unauthenticated": 200, "session_store_unavailable": 200,
	} {
		if got := errorPageStatus(code); got != want {
			t.Errorf("error page for %q: %d, want %d", code, got, want)
		}
	}
}

// newErrorBFF is a BFF for answering errors (no sign-in happens).
func newErrorBFF(t *testing.T) *BFF {
	t.Helper()
	b, err := New(context.Background(), Options{
		URL: "http://localhost:3000", StoreSpec: "memory",
		Secrets:   []string{"0123456789abcdef0123456789abcdef"},
		Providers: []Provider{{ID: "okta", Issuer: "https://idp.example", ClientID: "x", ClientSecret: "y"}},
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestWriteError: the one mapping answers each kind of error as the
// contract says, by mode.
func TestWriteError(t *testing.T) {
	b := newErrorBFF(t)
	sessionCookie := b.core.Names().Session
	withURL := nextauth.NewError(nextauth.CodeOAuthCallback, "")
	withURL.URL = "http://localhost:3000/api/auth/error?error=OAuthCallback"
	storeDown := fmt.Errorf("load: %w", session.ErrUnavailable)
	for _, tc := range []struct {
		name       string
		mode       answerMode
		err        error
		status     int
		code       string // JSON error code; "" for a non-JSON answer
		location   string
		retryAfter bool
		clears     bool // the session cookie
	}{
		{"refusal", fetch, nextauth.NewError(nextauth.CodeCrossOrigin, ""), 403, "cross_origin", "", false, false},
		{"own message", fetch, nextauth.NewError(nextauth.CodeNotFound, "no API route /api/x"), 404, "not_found", "", false, false},
		{"store outage, fetch", fetch, nextauth.NewError(nextauth.CodeStoreUnavailable, ""), 503, "session_store_unavailable", "", true, false},
		{"store outage, navigation", navigation, nextauth.NewError(nextauth.CodeStoreUnavailable, ""), 503, "", "", true, false},
		{"store outage from the host (ErrUnavailable)", fetch, errors.Join(ErrUnavailable, storeDown), 503, "session_store_unavailable", "", true, false},
		{"navigation to the error page", navigation, withURL, 302, "", withURL.URL, false, false},
		{"JSON mode", jsonURL, withURL, 200, "", "", false, false},
		{"error page URL in a fetch", fetch, withURL, 400, "OAuthCallback", "", false, false},
		{"session ended", fetch, nextauth.ErrSessionEnded, 401, "unauthenticated", "", false, true},
		{"session ended, bff's sentinel", fetch, ErrNoSession, 401, "unauthenticated", "", false, true},
		{"not a core error", fetch, errors.New("secret detail"), 500, "internal_error", "", false, false},
		{"a code outside the table", fetch, nextauth.NewError("no_such_code", "x"), 500, "internal_error", "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "http://localhost:3000/api/proxy/demo/x", nil)
			b.writeError(w, r, tc.mode, tc.err)
			res := w.Result()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (body %s)", res.StatusCode, tc.status, w.Body)
			}
			if tc.code != "" {
				var v map[string]string
				if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || v["error"] != tc.code || v["message"] == "" || len(v) != 2 {
					t.Fatalf("body %s, want {\"error\":%q,\"message\"}", w.Body, tc.code)
				}
				if res.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
					t.Fatalf("headers %v", res.Header)
				}
			}
			if strings.Contains(w.Body.String(), "secret detail") {
				t.Fatal("an internal error's cause reached the body")
			}
			if got := res.Header.Get("Location"); got != tc.location {
				t.Fatalf("Location %q, want %q", got, tc.location)
			}
			if got := res.Header.Get("Retry-After") != ""; got != tc.retryAfter {
				t.Fatalf("Retry-After sent: %v, want %v", got, tc.retryAfter)
			}
			cleared := false
			for _, c := range res.Cookies() {
				if c.Name == sessionCookie && c.MaxAge < 0 {
					cleared = true
				} else {
					t.Fatalf("cookie %s set", c.Name)
				}
			}
			if cleared != tc.clears {
				t.Fatalf("session cookie cleared: %v, want %v", cleared, tc.clears)
			}
		})
	}
}

// TestPublicWriteError: BFF.WriteError answers what Session.AccessToken
// returns from the same table.
func TestPublicWriteError(t *testing.T) {
	b := newErrorBFF(t)
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{ErrNoSession, 401, "unauthenticated"},
		{errors.Join(ErrUnavailable, fmt.Errorf("x: %w", session.ErrUnavailable)), 503, "session_store_unavailable"},
		{errors.Join(ErrAccessTokenExpired, nextauth.NewError(nextauth.CodeAccessTokenExpired, "")), 401, "access_token_expired"},
	} {
		w := httptest.NewRecorder()
		b.WriteError(w, httptest.NewRequest(http.MethodGet, "/api/me", nil), tc.err)
		var v map[string]string
		_ = json.Unmarshal(w.Body.Bytes(), &v)
		if w.Code != tc.status || v["error"] != tc.code {
			t.Errorf("WriteError(%v): %d %s, want %d %s", tc.err, w.Code, w.Body, tc.status, tc.code)
		}
	}
}

// TestRequestErrorFromTheTable: Options.ErrorHandler gets what writeError
// would answer, wrapping the core's typed error.
func TestRequestErrorFromTheTable(t *testing.T) {
	re := requestError(nextauth.NewError(nextauth.CodeCrossOrigin, ""))
	var e *nextauth.Error
	if re.Status != 403 || re.Code != "cross_origin" || re.Message == "" || !errors.As(re, &e) || e.Code != nextauth.CodeCrossOrigin {
		t.Fatalf("cross-origin: %+v", re)
	}
	re = requestError(nextauth.NewError(nextauth.CodeStoreUnavailable, ""))
	if re.Status != 503 || !errors.Is(re, ErrUnavailable) {
		t.Fatalf("outage: %+v", re)
	}
	re = requestError(errors.New("boom"))
	if re.Status != 500 || re.Code != "internal_error" || strings.Contains(re.Message, "boom") {
		t.Fatalf("internal: %+v", re)
	}
}

// mappingFiles are the only files of package bff that may choose an error
// status or write an error body.
var mappingFiles = map[string]bool{"errors.go": true}

// TestNoErrorAnswersOutsideTheMapping reads the sources of package bff (and
// bffgin): outside errors.go, no code names an HTTP error status (4xx/5xx)
// except to compare an upstream's status with it, passes a 4xx/5xx literal
// to a call, builds a map with an "error" key, writes an `"error":` JSON
// literal or calls http.Error.
func TestNoErrorAnswersOutsideTheMapping(t *testing.T) {
	errStatus := httpErrorStatuses(t)
	files, _ := filepath.Glob("*.go")
	more, _ := filepath.Glob("bffgin/*.go")
	files = append(files, more...)
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || mappingFiles[name] {
			continue
		}
		checked++
		for _, bad := range errorWrites(t, name, errStatus) {
			t.Errorf("%s: answers an error outside the one mapping (bff/errors.go): %s", name, bad)
		}
	}
	if checked < 15 {
		t.Fatalf("checked %d files: the scan is broken", checked)
	}
}

// httpErrorStatuses are net/http's Status constants of 400 and more, read
// from the Go installation's net/http/status.go.
func httpErrorStatuses(t *testing.T) map[string]int {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(runtime.GOROOT(), "src", "net", "http", "status.go"), nil, 0)
	if err != nil {
		t.Skipf("net/http sources not found: %v", err)
	}
	out := map[string]int{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Values) != len(vs.Names) {
			return true
		}
		for i, v := range vs.Values {
			if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.INT {
				if n, _ := strconv.Atoi(lit.Value); n >= 400 {
					out[vs.Names[i].Name] = n
				}
			}
		}
		return true
	})
	if out["StatusBadRequest"] != 400 || out["StatusServiceUnavailable"] != 503 || len(out) < 30 {
		t.Fatalf("read %d error statuses from net/http: the scan is broken", len(out))
	}
	return out
}

// errorWrites lists what file does that only the mapping may do.
func errorWrites(t *testing.T, file string, errStatus map[string]int) []string {
	t.Helper()
	fset := token.NewFileSet()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(fset, file, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	report := func(n ast.Node, what string) {
		bad = append(bad, fmt.Sprintf("line %d: %s", fset.Position(n.Pos()).Line, what))
	}
	// Comparisons (resp.StatusCode != http.StatusUnauthorized) and case
	// clauses read a status; they do not answer one.
	compared := map[ast.Node]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if n.Op == token.EQL || n.Op == token.NEQ {
				compared[n.X], compared[n.Y] = true, true
			}
		case *ast.CaseClause:
			for _, e := range n.List {
				compared[e] = true
			}
		}
		return true
	})
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if id, ok := n.X.(*ast.Ident); ok && id.Name == "http" && !compared[n] {
				if code, ok := errStatus[n.Sel.Name]; ok {
					report(n, fmt.Sprintf("http.%s (%d)", n.Sel.Name, code))
				}
				if n.Sel.Name == "Error" {
					report(n, "http.Error")
				}
			}
		case *ast.CallExpr:
			for _, a := range n.Args {
				if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.INT {
					if v, _ := strconv.Atoi(lit.Value); v >= 400 && v <= 599 {
						report(n, "status "+lit.Value)
					}
				}
			}
		case *ast.KeyValueExpr:
			// (The error page's template, pages.go, is a value under the
			// key "error" too: a template is not an answer.)
			lit, ok := n.Key.(*ast.BasicLit)
			tmpl, _ := n.Value.(*ast.BasicLit)
			if ok && lit.Kind == token.STRING && lit.Value == `"error"` && (tmpl == nil || !strings.Contains(tmpl.Value, "{{")) {
				report(n, `a map with an "error" key`)
			}
		case *ast.BasicLit:
			if n.Kind == token.STRING && strings.Contains(n.Value, `"error":`) {
				report(n, "an error JSON literal")
			}
		}
		return true
	})
	return bad
}
