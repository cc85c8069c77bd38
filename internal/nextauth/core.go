// Package nextauth is the NextAuth.js REST contract as plain Go: starting a
// sign-in, finishing it at the callback, reading and updating the session,
// signing out, back-channel logout and the access token of a session. Each
// use case takes plain values (a form, the request headers that matter, a
// small cookie interface) and returns plain results or one *Error carrying
// the contract's code. It knows nothing of HTTP routing or frameworks: the
// adapters in package bff (net/http) and bff/bffgin (Gin) translate requests
// into these calls and errors into answers through one function.
//
// The wire contract it implements is docs/contract.md.
package nextauth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/metrics"
	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/refresh"
	"github.com/authbff/authbff/internal/session"
)

// Options configures New. Settings, Secrets, Manager and Store are required.
type Options struct {
	// Settings are the validated settings (URL, base path, flavour,
	// policies).
	Settings Settings
	// Secrets seal flow cookies and CSRF tokens: the current one first.
	Secrets [][]byte
	// Manager creates, loads and ends sessions.
	Manager *session.Manager
	// Store is the Manager's store (one-time markers live there too).
	Store session.Store
	// Providers are the identity providers to offer, in order.
	Providers []Provider
	// HTTPClient is used for calls to identity providers; nil uses a default.
	HTTPClient *http.Client
	// Logger receives the core's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Metrics counts sign-ins, sign-outs, session reads, refreshes and
	// back-channel logouts; nil counts nothing.
	Metrics *metrics.Metrics
	// RefreshSpan, when set, wraps each refresh grant (refresh.Options.Span:
	// a tracing span); nil: nothing.
	RefreshSpan func(ctx context.Context, grant string) (context.Context, func(error))
}

// provider is one configured identity provider with its OIDC client.
type provider struct {
	cfg    Provider
	client *oidc.Provider
}

// Core is one authbff's NextAuth contract: providers, sessions, sealing and
// refresh coordination. It is safe for concurrent use.
type Core struct {
	cfg       *Settings
	flavor    auth.Flavor
	names     auth.CookieNames
	origin    string
	base      string                      // origin + base path
	csrf      atomic.Pointer[auth.CSRF]   // SetSecrets swaps it (rotate.go)
	sealer    atomic.Pointer[auth.Sealer] // SetSecrets swaps it
	sessions  *session.Manager
	store     session.Store
	providers map[string]*provider
	order     []string
	log       *slog.Logger
	now       func() time.Time
	refresher *refresh.Coordinator
	metrics   *metrics.Metrics
	// refreshSpan is Options.RefreshSpan.
	refreshSpan func(ctx context.Context, grant string) (context.Context, func(error))
}

// New builds the core from o.
func New(o Options) (*Core, error) {
	sealer, err := auth.NewSealer(o.Secrets, nil)
	if err != nil {
		return nil, fmt.Errorf("nextauth: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	set := o.Settings
	if set.URL == nil {
		return nil, fmt.Errorf("nextauth: Settings.URL is not set")
	}
	flavor := set.Flavor
	c := &Core{
		cfg:       &set,
		flavor:    flavor,
		names:     prefixedNames(auth.Names(flavor, set.Secure()), set.CookiePrefix),
		origin:    set.Origin(),
		base:      set.Origin() + set.BasePath,
		sessions:  o.Manager,
		store:     o.Store,
		providers: map[string]*provider{},
		log:       log,
		now:       now,
		metrics:   o.Metrics,

		refreshSpan: o.RefreshSpan,
	}
	c.csrf.Store(auth.NewCSRF(o.Secrets))
	c.sealer.Store(sealer)
	for _, pc := range o.Providers {
		client, err := NewOIDCProvider(&set, pc, o.HTTPClient, log)
		if err != nil {
			return nil, err
		}
		c.providers[pc.ID] = &provider{cfg: pc, client: client}
		c.order = append(c.order, pc.ID)
	}
	if c.refresher, err = c.newRefresher(); err != nil {
		return nil, err
	}
	return c, nil
}

// NewOIDCProvider makes the OIDC client of one configured provider.
func NewOIDCProvider(cfg *Settings, pc Provider, hc *http.Client, log *slog.Logger) (*oidc.Provider, error) {
	style := pc.AuthStyle
	var pin oidc.IssuerPin
	if pc.LearnIssuer && cfg.DataDir != "" {
		// COGNITO_DOMAIN alone: the pool's issuer is learned from the first
		// ID token and pinned in the data directory (without one, in memory).
		pin = oidc.NewFileIssuerPin(oidc.IssuerPinFile(cfg.DataDir, pc.ID), pc.CognitoDomain)
	}
	client, err := oidc.New(oidc.Config{
		ID: pc.ID, Issuer: pc.Issuer, ClientID: pc.ClientID, ClientSecret: pc.ClientSecret,
		RedirectURL: cfg.CallbackURL(pc.ID), Scopes: pc.Scopes, AuthStyle: style,
		Cognito: pc.Cognito, CognitoDomain: pc.CognitoDomain, UserInfo: pc.UserInfo,
		LearnIssuer: pc.LearnIssuer, IssuerPin: pin,
		AllowedAlgs: pc.IDTokenAlgs, LogoutIDTokenHint: pc.LogoutIDTokenHint,
		OAuth2: pc.OAuth2, Apple: pc.Apple, Google: pc.Google, HostedDomain: pc.HostedDomain, Tenants: pc.Tenants,
		HTTPClient: hc, Logger: log.With("provider", pc.ID),
		ClientKeys: pc.ClientKeys, PAR: pc.PAR, DPoP: pc.DPoP, AssertionAudienceToken: pc.AssertionAudienceToken,
	})
	if err != nil {
		return nil, fmt.Errorf("nextauth: provider %s: %w", pc.ID, err)
	}
	warnPublicClient(log, pc)
	for _, t := range pc.Tenants {
		if t == "*" {
			log.Warn("ENTRA: EVERY Microsoft Entra ID tenant may sign in (tenants \"*\"): any organisation's user, "+
				"and with a /common issuer any personal Microsoft account; list your tenant ids to restrict it",
				"provider", pc.ID)
		}
	}
	return client, nil
}

// newRefresher builds the token refresh coordinator. With a store that
// offers a cross-instance lock (Redis) refreshes are serialised through it;
// with memory or bolt (one process owns the data) the in-process flight is
// enough.
func (c *Core) newRefresher() (*refresh.Coordinator, error) {
	var locker refresh.Locker
	if l, ok := c.store.(refresh.Locker); ok {
		locker = l
	}
	o := refresh.Options{
		Sessions:        c.sessions,
		Locker:          locker,
		Provider:        c.refreshProvider,
		Margin:          c.cfg.RefreshMargin,
		Now:             func() time.Time { return c.now() },
		Logger:          c.log.With("component", "refresh"),
		Observe:         c.metrics.Refresh,
		ObserveUpstream: c.metrics.UpstreamGrant,
		Span:            c.refreshSpan,
	}
	c.refreshHooks(&o)
	return refresh.New(o)
}

// refreshProvider returns what refreshing a session of provider id needs.
func (c *Core) refreshProvider(id string) (refresh.Provider, bool) {
	p, ok := c.providers[id]
	if !ok {
		return refresh.Provider{}, false
	}
	return refresh.Provider{Client: p.client, ClientID: p.cfg.ClientID, Issuer: p.client.Issuer()}, true
}

// Settings returns the settings the core runs with.
func (c *Core) Settings() *Settings { return c.cfg }

// Names returns the cookie names of the configured flavour and scheme.
func (c *Core) Names() auth.CookieNames { return c.names }

// Flavor returns the NextAuth client generation served.
func (c *Core) Flavor() auth.Flavor { return c.flavor }

// Origin returns the public origin, scheme://host[:port].
func (c *Core) Origin() string { return c.origin }

// Base returns the absolute URL of the NextAuth routes (origin + base path).
func (c *Core) Base() string { return c.base }

// Sessions returns the session manager.
func (c *Core) Sessions() *session.Manager { return c.sessions }

// Store returns the session store.
func (c *Core) Store() session.Store { return c.store }

// Logger returns the core's logger.
func (c *Core) Logger() *slog.Logger { return c.log }

// Close waits for the token refreshes running now (each bounded) and starts
// no new one; call it before closing the session manager. Idempotent.
func (c *Core) Close() { c.refresher.Close() }

// Now returns the core's current time.
func (c *Core) Now() time.Time { return c.now() }

// SafeURL applies the callbackUrl policy against the configured origin: the
// result is always on the origin.
func (c *Core) SafeURL(raw string) string {
	u, ok := auth.SafeCallbackURL(raw, c.origin)
	if !ok && raw != "" {
		c.log.Info("callbackUrl refused (another origin, too long or malformed); using the origin", "callback_url_len", len(raw))
	}
	return u
}
