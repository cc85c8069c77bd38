package bffgin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/bff/bffgin"
)

// TestRequireStepUpOnGin: a dev IdP session (no acr) is refused by
// RequireStepUp with the RFC 9470 challenge, the handler not run.
func TestRequireStepUpOnGin(t *testing.T) {
	ran := false
	base := ginApp(t, bff.Options{}, func(r *gin.Engine, b *bff.BFF) {
		r.GET("/api/pay", bffgin.RequireStepUp(b, bff.StepUp{ACR: []string{"urn:mfa"}}), func(c *gin.Context) { ran = true })
	})
	resp := apiGet(t, signedIn(t, base, "ada"), base+"/api/pay")
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `acr_values="urn:mfa"`) || ran {
		t.Fatalf("%d %q ran=%v", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), ran)
	}
}
