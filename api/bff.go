package main

import "github.com/gin-gonic/gin"

// mountBFF registers the backend-for-frontend routes: the API proxy under
// /api/proxy, session control and back-channel logout under the base path.
func (a *App) mountBFF(r *gin.Engine, base *gin.RouterGroup) {}
