package api

import (
	"net/http"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
)

// The cross-origin policy for CORS_ORIGINS: the allow-list with
// credentials, never "*".
var (
	corsMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	corsHeaders = []string{"Content-Type", "X-CSRF", "X-Auth-Return-Redirect", "X-Request-Id"}
	corsExpose  = []string{"X-Request-Id"}
	corsMaxAge  = 10 * time.Minute
)

// corsMiddleware answers CORS (gin-contrib/cors) for the origins of
// CORS_ORIGINS, with credentials; a request with any other Origin is
// refused with 403 before anything runs.
//
// appOrigin, NEXTAUTH_URL's origin, is listed explicitly: gin-contrib/cors
// takes a request as same-origin only when its Origin names the Host header,
// so behind a proxy that rewrites Host (Origin https://app.example.com, Host
// authbff.internal:8080) the app's own requests would otherwise be refused.
// The CSRF origin check is the library's, against NEXTAUTH_URL and
// CORS_ORIGINS, never Host.
func corsMiddleware(appOrigin string, origins []string) gin.HandlerFunc {
	allow := append([]string{appOrigin}, origins...)
	return cors.New(cors.Config{
		AllowOrigins:     allow,
		AllowMethods:     corsMethods,
		AllowHeaders:     corsHeaders,
		ExposeHeaders:    corsExpose,
		AllowCredentials: true,
		MaxAge:           corsMaxAge,
	})
}
