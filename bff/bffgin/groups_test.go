package bffgin_test

import (
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/bff/bffgin"
)

// TestRequireGroups (issue 23): bffgin.Require(b, bff.RequireGroups("admins"))
// lets ada (admins) through and answers grace (no group) 403 forbidden.
func TestRequireGroups(t *testing.T) {
	base := ginApp(t, bff.Options{}, func(r *gin.Engine, b *bff.BFF) {
		r.GET("/api/admin", bffgin.Require(b, bff.RequireGroups("admins")), func(c *gin.Context) { c.JSON(200, gin.H{"ok": true}) })
	})
	for user, want := range map[string]int{"ada": 200, "grace": 403} {
		resp := apiGet(t, signedIn(t, base, user), base+"/api/admin")
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", user, resp.StatusCode, want)
		}
	}
}
