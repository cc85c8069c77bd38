package bff_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

func init() {
	// HTML pages are validated as strings (status and content type matter).
	openapi3filter.RegisterBodyDecoder("text/html", func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(body)
		return string(b), err
	})
}

// specChecker validates real responses against ../openapi.yaml.
type specChecker struct {
	t      *testing.T
	router routers.Router
	seen   map[string]bool // "METHOD path-template" covered
}

func newSpecChecker(t *testing.T, baseURL string) *specChecker {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("../openapi.yaml")
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not valid OpenAPI: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: baseURL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &specChecker{t: t, router: router, seen: map[string]bool{}}
}

// check validates one exchange: the route must be in the spec, and the
// status, content type and body must match what the spec says.
func (s *specChecker) check(r response, reqBody string) {
	s.t.Helper()
	req := r.Request.Clone(context.Background())
	req.Body = io.NopCloser(strings.NewReader(reqBody))
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		s.t.Fatalf("%s %s: not in openapi.yaml: %v", req.Method, req.URL.Path, err)
	}
	s.seen[req.Method+" "+route.Path] = true
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: r.StatusCode, Header: r.Header,
		Body:    io.NopCloser(bytes.NewReader([]byte(r.Body))),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		s.t.Errorf("%s %s -> %d does not match openapi.yaml: %v\nbody: %.300s", req.Method, req.URL.Path, r.StatusCode, err, r.Body)
	}
}

func TestResponsesMatchOpenAPI(t *testing.T) {
	app := startApp(t, map[string]string{"SESSION_STORE": "memory", "AUTHBFF_DATA_DIR": t.TempDir()})
	spec := newSpecChecker(t, app.URL)
	b := newBrowser(t)
	base := app.URL + "/api/auth"

	spec.check(b.Get(base+"/providers"), "")
	spec.check(b.Get(base+"/session"), "")
	spec.check(b.Get(base+"/csrf"), "")
	spec.check(b.Get(base+"/signin?callbackUrl=%2Fx"), "")
	spec.check(b.Get(base+"/signin/cognito"), "")
	spec.check(b.Get(base+"/signout"), "")
	spec.check(b.Get(base+"/verify-request"), "")
	for _, code := range []string{"OAuthCallback", "Configuration", "AccessDenied", "Default"} {
		spec.check(b.Get(base+"/error?error="+code), "")
	}
	spec.check(b.Get(app.URL+"/healthz"), "")
	spec.check(b.Get(app.URL+"/readyz"), "")
	logBody := url.Values{"level": {"error"}, "code": {"X"}}.Encode()
	spec.check(b.PostForm(base+"/_log", url.Values{"level": {"error"}, "code": {"X"}}), logBody)

	// Sign in: POST /signin (JSON mode and redirect mode), callback.
	tok := b.CSRF(app.URL)
	form := url.Values{"csrfToken": {tok}, "callbackUrl": {"/protected"}, "json": {"true"}}
	r := b.PostForm(base+"/signin/cognito", form)
	spec.check(r, form.Encode())
	form2 := url.Values{"csrfToken": {tok}, "callbackUrl": {"/protected"}}
	spec.check(b.PostForm(base+"/signin/cognito", form2), form2.Encode())
	authURL := b.StartSignIn(app.URL, "cognito", "/protected")
	cb := b.DevLogin(b.Get(authURL), "ada")
	done := b.Get(location(t, cb))
	spec.check(done, "")
	spec.check(b.Get(base+"/session"), "")
	upd := url.Values{"csrfToken": {tok}}
	spec.check(b.PostForm(base+"/session", upd), upd.Encode())
	bad := url.Values{"csrfToken": {"nope"}}
	spec.check(b.PostForm(base+"/session", bad), bad.Encode())
	out := url.Values{"csrfToken": {tok}, "json": {"true"}}
	spec.check(b.PostForm(base+"/signout", out), out.Encode())
	nobody := url.Values{"json": {"true"}}
	spec.check(b.PostForm(base+"/signout", nobody), nobody.Encode())

	// The SPA and the development IdP.
	signedOut := newBrowser(t)
	spec.check(signedOut.Get(app.URL+"/"), "")
	spec.check(signedOut.Get(app.URL+"/protected"), "")
	spec.check(b.Get(app.URL+"/assets/auth.js"), "")
	spec.check(b.Get(app.URL+"/assets/nope.js"), "")
	issuer := devIdP(app.BFF).Issuer()
	spec.check(b.Get(issuer+"/.well-known/openid-configuration"), "")
	spec.check(b.Get(issuer+"/.well-known/jwks.json"), "")
	spec.check(b.Get(app.URL+devIdPPath+"/demo-api/me"), "")

	for _, want := range []string{
		"GET /", "GET /protected", "GET /assets/{file}",
		"GET /_devidp/{poolId}/.well-known/openid-configuration", "GET /_devidp/{poolId}/.well-known/jwks.json",
		"GET /_devidp/demo-api/me",
		"GET /api/auth/providers", "GET /api/auth/csrf", "GET /api/auth/session", "POST /api/auth/session",
		"GET /api/auth/signin", "GET /api/auth/signin/{provider}", "POST /api/auth/signin/{provider}",
		"GET /api/auth/callback/{provider}", "GET /api/auth/signout", "POST /api/auth/signout",
		"GET /api/auth/error", "GET /api/auth/verify-request", "POST /api/auth/_log",
	} {
		if !spec.seen[want] {
			t.Errorf("route %s not exercised", want)
		}
	}
}

func TestUnknownActionsAre400(t *testing.T) {
	app := startApp(t, map[string]string{"SESSION_STORE": "memory", "AUTHBFF_DATA_DIR": t.TempDir()})
	b := newBrowser(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/auth/nope"}, {"PUT", "/api/auth/session"}, {"DELETE", "/api/auth/signout"},
		{"POST", "/api/auth/providers"}, {"POST", "/api/auth/csrf"}, {"GET", "/api/auth"},
	} {
		req, _ := http.NewRequest(tc.method, app.URL+tc.path, nil)
		r := b.Do(req)
		if r.StatusCode != 400 || !strings.Contains(r.Body, `"error":"bad_request"`) || !strings.Contains(r.Body, `"message"`) {
			t.Errorf("%s %s -> %d %s, want 400 JSON", tc.method, tc.path, r.StatusCode, r.Body)
		}
	}
}
