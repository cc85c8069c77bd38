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
	gin.SetMode(gin.TestMode)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	var hookErr error
	b, err := bff.New(context.Background(), bff.Options{
		URL: base, DevIdP: true, Logger: slog.New(slog.DiscardHandler),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			hookErr = err
			w.WriteHeader(http.StatusTeapot)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r := gin.New()
	bffgin.Mount(r, b)
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
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	cj, _ := cookiejar.New(nil)
	c := &http.Client{Jar: cj, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	me := func() *http.Response {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/me", nil)
		req.Header.Set("X-CSRF", "1")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
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
