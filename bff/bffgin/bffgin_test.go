package bffgin_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/bff/bffgin"
	"github.com/authbff/authbff/internal/devidp/devidptest"
)

// TestRequireOnAPlainEngine: on gin.New() (ContextWithFallback off)
// Require lets a signed-in user through, SessionFrom finds the session
// through the *gin.Context and through the request's context, and
// AccessToken works with either; a refusal goes through
// Options.ErrorHandler.
func TestRequireOnAPlainEngine(t *testing.T) {
	var hookErr error
	base := ginApp(t, bff.Options{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		hookErr = err
		w.WriteHeader(http.StatusTeapot)
	}}, func(r *gin.Engine, b *bff.BFF) {
		r.GET("/api/me", bffgin.Require(b), func(c *gin.Context) {
			s, ok := bffgin.SessionFrom(c)
			s2, ok2 := bff.SessionFrom(c)
			if !ok || !ok2 || s != s2 {
				c.String(500, "no session in the context")
				return
			}
			tok, err := s.AccessToken(c) // c cannot be cancelled here: the request's context is used
			tok2, err2 := s.AccessToken(c.Request.Context())
			if err != nil || err2 != nil || tok == "" || tok != tok2 {
				c.String(500, "access token: %v %v", err, err2)
				return
			}
			c.JSON(200, gin.H{"name": s.User().Name})
		})
	})
	c := browserClient()
	me := func() *http.Response { return apiGet(t, c, base+"/api/me") }
	resp := me()
	resp.Body.Close()
	var re *bff.RequestError
	if resp.StatusCode != http.StatusTeapot || !errors.As(hookErr, &re) || re.Status != 401 || re.Code != "unauthenticated" {
		t.Fatalf("signed out: %d, hook got %v", resp.StatusCode, hookErr)
	}
	if _, err := devidptest.SignIn(c, base, base+"/", "ada"); err != nil {
		t.Fatal(err)
	}
	resp = me()
	defer resp.Body.Close()
	var got map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&got)
	if resp.StatusCode != 200 || got["name"] != "Ada Lovelace" {
		t.Fatalf("signed in: %d %v", resp.StatusCode, got)
	}
}

// ginApp serves, on loopback, a dev-IdP BFF made from o (URL, DevIdP and a
// silent Logger set here) mounted on a gin.New() engine with the routes
// route adds, and returns its base URL.
func ginApp(t *testing.T, o bff.Options, route func(r *gin.Engine, b *bff.BFF)) string {
	t.Helper()
	gin.SetMode(gin.TestMode)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	o.URL, o.DevIdP, o.Logger = base, true, slog.New(slog.DiscardHandler)
	b, err := bff.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	bffgin.Mount(r, b)
	route(r, b)
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); b.Close() })
	return base
}

// browserClient keeps cookies and follows no redirects.
func browserClient() *http.Client {
	cj, _ := cookiejar.New(nil)
	return &http.Client{Jar: cj, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signedIn is a browserClient signed in as user at base's dev IdP.
func signedIn(t *testing.T, base, user string) *http.Client {
	t.Helper()
	c := browserClient()
	if _, err := devidptest.SignIn(c, base, base+"/", user); err != nil {
		t.Fatal(err)
	}
	return c
}

// apiGet is a fetch of url with X-CSRF: 1 (the body left to the caller).
func apiGet(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("X-CSRF", "1")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
