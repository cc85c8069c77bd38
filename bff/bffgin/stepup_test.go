package bffgin_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/bff/bffgin"
	"github.com/authbff/authbff/internal/devidp/devidptest"
)

// TestRequireStepUpOnGin: a dev IdP session (no acr) is refused by
// RequireStepUp with the RFC 9470 challenge, the handler not run.
func TestRequireStepUpOnGin(t *testing.T) {
	gin.SetMode(gin.TestMode)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	b, err := bff.New(context.Background(), bff.Options{URL: base, DevIdP: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r := gin.New()
	bffgin.Mount(r, b)
	ran := false
	r.GET("/api/pay", bffgin.RequireStepUp(b, bff.StepUp{ACR: []string{"urn:mfa"}}), func(c *gin.Context) { ran = true })
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	cj, _ := cookiejar.New(nil)
	c := &http.Client{Jar: cj, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if _, err := devidptest.SignIn(c, base, base+"/", "ada"); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/pay", nil)
	req.Header.Set("X-CSRF", "1")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `acr_values="urn:mfa"`) || ran {
		t.Fatalf("%d %q ran=%v", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), ran)
	}
}
