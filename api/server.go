package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/refresh"
	"github.com/authbff/authbff/internal/session"
)

type appOptions struct {
	Config     *config.Config
	Secrets    [][]byte
	Manager    *session.Manager
	Store      session.Store
	Providers  []config.Provider
	HTTPClient *http.Client
	Logger     *slog.Logger
	DevIdP     *devidp.IdP
}

// provider is one configured identity provider as the handlers see it.
type provider struct {
	cfg    config.Provider
	client *oidc.Provider
}

// App is the HTTP side of authbff: the NextAuth routes, the SPA and the
// probes, wired onto one Gin engine.
type App struct {
	cfg       *config.Config
	flavor    auth.Flavor
	names     auth.CookieNames
	origin    string
	base      string // origin + base path
	csrf      *auth.CSRF
	sealer    *auth.Sealer
	sessions  *session.Manager
	store     session.Store
	providers map[string]*provider
	order     []string
	log       *slog.Logger
	devidp    *devidp.IdP
	engine    *gin.Engine
	spa       http.Handler
	now       func() time.Time
	refresher *refresh.Coordinator
	reqIDs    *requestIDs
}

func newApp(o appOptions) (*App, error) {
	sealer, err := auth.NewSealer(o.Secrets, nil)
	if err != nil {
		return nil, err
	}
	flavor := auth.Flavor(o.Config.Flavor)
	a := &App{
		cfg:       o.Config,
		flavor:    flavor,
		names:     auth.Names(flavor, o.Config.Secure()),
		origin:    o.Config.Origin(),
		base:      o.Config.Origin() + o.Config.BasePath,
		csrf:      auth.NewCSRF(o.Secrets),
		sealer:    sealer,
		sessions:  o.Manager,
		store:     o.Store,
		providers: map[string]*provider{},
		log:       o.Logger,
		devidp:    o.DevIdP,
		now:       time.Now,
		reqIDs:    newRequestIDs(),
	}
	for _, pc := range o.Providers {
		client, err := newOIDCProvider(o.Config, pc, o.HTTPClient, o.Logger)
		if err != nil {
			return nil, err
		}
		a.providers[pc.ID] = &provider{cfg: pc, client: client}
		a.order = append(a.order, pc.ID)
	}
	if a.refresher, err = a.newRefresher(); err != nil {
		return nil, err
	}
	if a.spa, err = a.newSPA(); err != nil {
		return nil, err
	}
	a.engine = a.routes()
	return a, nil
}

// newOIDCProvider makes the OIDC client of one configured provider.
func newOIDCProvider(cfg *config.Config, pc config.Provider, hc *http.Client, log *slog.Logger) (*oidc.Provider, error) {
	style := oidc.AuthStylePost
	switch pc.AuthStyle {
	case config.AuthStyleBasic:
		style = oidc.AuthStyleBasic
	case config.AuthStyleNone:
		style = oidc.AuthStyleNone
	}
	client, err := oidc.New(oidc.Config{
		ID: pc.ID, Issuer: pc.Issuer, ClientID: pc.ClientID, ClientSecret: pc.ClientSecret,
		RedirectURL: cfg.CallbackURL(pc.ID), Scopes: pc.Scopes, AuthStyle: style,
		Cognito: pc.Cognito, CognitoDomain: pc.CognitoDomain, UserInfo: pc.UserInfo,
		HTTPClient: hc, Logger: log.With("provider", pc.ID),
	})
	if err != nil {
		return nil, fmt.Errorf("main: provider %s: %w", pc.ID, err)
	}
	return client, nil
}

// Handler returns the root HTTP handler.
func (a *App) Handler() http.Handler { return a.engine }

func (a *App) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = false
	r.ContextWithFallback = true
	// X-Forwarded-For / X-Real-IP are believed only from TRUSTED_PROXIES
	// (validated by config); c.ClientIP() is the peer address otherwise.
	if err := r.SetTrustedProxies(a.cfg.TrustedProxies); err != nil {
		a.log.Error("TRUSTED_PROXIES rejected by the router; trusting no proxy", "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(a.recoverer(), a.requestLog())
	if len(a.cfg.CORSOrigins) > 0 {
		r.Use(a.corsMiddleware())
	}

	b := r.Group(a.cfg.BasePath)
	b.GET("/providers", a.handleProviders)
	b.GET("/csrf", a.handleCSRF)
	b.GET("/session", a.handleSession)
	b.POST("/session", a.handleSessionUpdate)
	b.GET("/signin", a.handleSigninPage)
	b.GET("/signin/:provider", a.handleSigninPage)
	b.POST("/signin/:provider", a.handleSignin)
	b.GET("/callback/:provider", a.handleCallback)
	b.POST("/callback/:provider", a.handleCallback)
	b.GET("/signout", a.handleSignoutPage)
	b.POST("/signout", a.handleSignout)
	b.GET("/error", a.handleErrorPage)
	b.GET("/verify-request", a.handleVerifyRequest)
	b.POST("/_log", a.handleLog)

	a.mountBFF(r, b)

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", a.handleReady)
	if a.devidp != nil {
		h := gin.WrapH(a.devidp)
		r.Any(DevIdPPath+"/*path", h)
	}
	r.NoRoute(a.handleNoRoute)
	return r
}

func (a *App) handleReady(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := a.store.Ping(ctx); err != nil {
		a.log.Warn("readiness: session store unreachable", "err", err)
		c.Header("Retry-After", "5")
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "store": "unreachable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "store": "ok"})
}

func (a *App) handleNoRoute(c *gin.Context) {
	p := c.Request.URL.Path
	if a.canonicalHost(c) || a.returnAfterSignout(c) || !a.guard(c) {
		return
	}
	if p == a.cfg.BasePath || hasPathPrefix(p, a.cfg.BasePath) {
		jsonError(c, http.StatusBadRequest, "bad_request",
			fmt.Sprintf("%s %s is not a NextAuth action; see %s/providers, /csrf, /session, /signin, /signout", c.Request.Method, p, a.cfg.BasePath))
		return
	}
	if hasPathPrefix(p, "/api") {
		jsonError(c, http.StatusNotFound, "not_found", "no API route "+p)
		return
	}
	a.spa.ServeHTTP(c.Writer, c.Request)
}

func hasPathPrefix(p, prefix string) bool {
	return len(p) > len(prefix) && p[:len(prefix)] == prefix && p[len(prefix)] == '/'
}

// jsonError writes the ONE error shape for fetches: {"error","message"}.
func jsonError(c *gin.Context, status int, code, message string) {
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(status, gin.H{"error": code, "message": message})
}
