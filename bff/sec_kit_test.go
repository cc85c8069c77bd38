package bff_test

// Test kit of the issue-24 tests (sec_*_test.go): panva's oidc-provider in
// its high-security configuration (bff/testdata/oidcprovider/fapi.mjs),
// an authbff on a listener made before it (the provider's client
// registration names the app's callback and jwks_uri), a recorder of every
// request authbff makes to the provider, and a driver of the provider's
// login and consent pages.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/bff"
)

// secStartPanva runs fapi.mjs (oidc-provider's high-security
// configuration) with env and returns its issuer.
func secStartPanva(t *testing.T, env ...string) string {
	t.Helper()
	return runPanva(t, panvaDir, "fapi.mjs", env...)
}

// secListen is a loopback listener and its origin.
func secListen(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, "http://" + ln.Addr().String()
}

// secServe serves an authbff configured by env on ln, calling providers
// through hc.
func secServe(t *testing.T, ln net.Listener, env map[string]string, hc *http.Client) *provApp {
	t.Helper()
	origin := "http://" + ln.Addr().String()
	o, err := provOptions(t, env, origin)
	if err != nil {
		ln.Close()
		t.Fatalf("options: %v", err)
	}
	logs := &provLogs{}
	o.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(logs, t.Output()), nil))
	o.HTTPClient = hc
	b, err := bff.New(context.Background(), o)
	if err != nil {
		ln.Close()
		t.Fatalf("bff.New: %v", err)
	}
	srv := &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		b.Close()
	})
	return &provApp{URL: origin, Logs: logs, BFF: b}
}

// secCall is one request authbff made to the provider.
type secCall struct {
	Method, Path string
	Header       http.Header
	Form         url.Values // a form POST's body
	Status       int
	Body         string
}

// secRecorder records authbff's calls to the provider.
type secRecorder struct {
	mu    sync.Mutex
	calls []secCall
}

func (rec *secRecorder) client() *http.Client {
	return &http.Client{Transport: rec, Timeout: 10 * time.Second}
}

func (rec *secRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	c := secCall{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		c.Form, _ = url.ParseQuery(string(b))
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		c.Status = resp.StatusCode
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		c.Body = string(b)
	}
	rec.mu.Lock()
	rec.calls = append(rec.calls, c)
	rec.mu.Unlock()
	return resp, err
}

// Calls returns the calls so far.
func (rec *secRecorder) Calls() []secCall {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]secCall(nil), rec.calls...)
}

// waitCall waits up to 5 s for a call matching ok.
func (rec *secRecorder) waitCall(t *testing.T, what string, ok func(secCall) bool) secCall {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, c := range rec.Calls() {
			if ok(c) {
				return c
			}
		}
	}
	t.Fatalf("authbff made no %s call; calls: %v", what, secPaths(rec.Calls()))
	return secCall{}
}

func secPaths(calls []secCall) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Method+" "+c.Path)
	}
	return out
}

// secKeyPEM makes a PEM private key: EC P-256, or RSA 2048 with rsaKey.
func secKeyPEM(t *testing.T, rsaKey bool) string {
	t.Helper()
	var k any
	var err error
	if rsaKey {
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// secInteract follows oidc-provider's devInteractions (login as login,
// then consent) from the authorize URL until it redirects to the app, and
// returns that redirect's URL (the callback, not yet fetched).
func secInteract(b *provBrowser, app *provApp, authURL, login string) string {
	b.t.Helper()
	resp, body := b.get(authURL)
	for range 12 {
		if resp.StatusCode == http.StatusOK {
			action, form := panvaForm(b.t, string(body), login)
			req, _ := http.NewRequest(http.MethodPost, resp.Request.URL.ResolveReference(action).String(), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, body = b.do(req)
			continue
		}
		loc := resp.Header.Get("Location")
		if loc == "" {
			b.t.Fatalf("oidc-provider answered %d without a Location: %s", resp.StatusCode, body)
		}
		next, _ := resp.Request.URL.Parse(loc)
		if strings.HasPrefix(next.String(), app.URL+"/") {
			return next.String()
		}
		resp, body = b.get(next.String())
	}
	b.t.Fatal("oidc-provider never redirected back to the app")
	return ""
}

// secPost POSTs form (with the CSRF token and the app's Origin) to the
// app's path and returns the answer.
func secPost(b *provBrowser, app *provApp, path string, form url.Values) (*http.Response, []byte) {
	b.t.Helper()
	_, body := b.get(app.URL + "/api/auth/csrf")
	m := regexp.MustCompile(`"csrfToken":"([^"]+)"`).FindSubmatch(body)
	if m == nil {
		b.t.Fatalf("csrf: %s", body)
	}
	form.Set("csrfToken", string(m[1]))
	req, _ := http.NewRequest(http.MethodPost, app.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", app.URL)
	return b.do(req)
}
