package bffgin_test

import (
	"context"
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

// TestRequireGroups (issue 23): bffgin.Require(b, bff.RequireGroups("admins"))
// lets ada (admins) through and answers grace (no group) 403 forbidden.
func TestRequireGroups(t *testing.T) {
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
	r.GET("/api/admin", bffgin.Require(b, bff.RequireGroups("admins")), func(c *gin.Context) { c.JSON(200, gin.H{"ok": true}) })
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	for user, want := range map[string]int{"ada": 200, "grace": 403} {
		cj, _ := cookiejar.New(nil)
		c := &http.Client{Jar: cj, Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if _, err := devidptest.SignIn(c, base, base+"/", user); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, base+"/api/admin", nil)
		req.Header.Set("X-CSRF", "1")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", user, resp.StatusCode, want)
		}
	}
}
