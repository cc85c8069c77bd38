// Package bff is authbff as a Go library: NextAuth.js's REST contract for a
// single-page app, with the OAuth tokens kept server-side, mounted on any
// net/http server.
//
//	o, err := bff.OptionsFromEnv()        // or fill bff.Options by hand
//	b, err := bff.New(ctx, o)
//	defer b.Close()
//	mux := http.NewServeMux()
//	mux.Handle("/api/orders", b.Require(orders)) // SessionFrom, AccessToken inside
//	mux.Handle("/", b.Handler())                 // /api/auth/*, /api/proxy/*, the SPA
//
// Package bff/bffgin does the same on a Gin engine. The package sets no
// process-wide state: several BFFs can run in one process.
//
// CORS is the host's: the handler answers no preflight and sets no
// Access-Control-* header. To let another origin (a dev server on :5173)
// call with credentials, list it in Options.CORSOrigins (the handler's
// origin check then accepts it) and apply the host's CORS middleware with
// the same list: gin-contrib/cors on a Gin engine, with Options.URL's own
// origin listed too (gin-contrib/cors treats only an Origin naming the Host
// header as same-origin, which a proxy that rewrites Host breaks), or any
// net/http CORS middleware. The origin check of NextAuth's POSTs and of the
// proxy stays here, against Options.URL and CORSOrigins, never Host.
package bff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/metrics"
	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/tracing"
)

// BFF is one configured authbff: its providers, session store and routes.
// Create it with New; Close releases it. It is safe for concurrent use.
type BFF struct {
	cfg      *settings
	core     *nextauth.Core
	log      *slog.Logger
	store    session.Store
	ownStore bool
	sessions *session.Manager
	devidp   *devidp.IdP
	// devidpPeers are DevIdPAllowCIDRs: networks that may use devidp
	// besides loopback.
	devidpPeers []netip.Prefix
	spa         http.Handler
	// protectedPaths are ProtectedPaths as routes of the SPA.
	protectedPaths []string
	proxy          *proxy
	reqIDs         *requestIDs
	trusted        trustedProxies
	metrics        *metrics.Metrics
	draining       atomic.Bool
	writers        sync.Pool    // of *statusWriter
	hsts           bool         // the URL is https: Strict-Transport-Security on every answer
	handler        http.Handler // the routes
	onError        func(http.ResponseWriter, *http.Request, error)
	closeOnce      sync.Once
	closeErr       error
	keys           atomic.Pointer[keyring] // the secrets and what they give; RotateSecrets swaps it (rotate.go)
	rotMu          sync.Mutex              // one RotateSecrets at a time
	opts           Options                 // what New was given: RotateSecrets checks its changes against it
	tracer         trace.Tracer            // Options.TracerProvider's; nil: tracing off (tracing.go)

	// protectedGroups are the groups each protectedPaths entry requires
	// (nil: a session is enough).
	protectedGroups [][]string
}

// startupCheck bounds the store check New makes.
const startupCheck = 5 * time.Second

// New checks o (every problem at once, each naming its field), opens the
// session store (unless o.Store is given), starts the development IdP when
// o.DevIdP asks for it, and prepares the routes. It does not listen: serve
// Handler(). ctx bounds the start-up: a ctx already done fails New, and the
// check that the session store answers (at most 5 s) runs under it; a store
// that does not answer yet is logged as a warning, not an error (requests
// answer 503 until it does). ctx is not kept.
func New(ctx context.Context, o Options) (*BFF, error) {
	cfg, err := o.resolve()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bff: new: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	b := &BFF{cfg: cfg, log: log, reqIDs: newRequestIDs(), metrics: metrics.New(), onError: o.ErrorHandler,
		tracer: newTracer(o.TracerProvider)}
	b.writers.New = func() any { return new(statusWriter) }
	if err := b.setup(ctx, o); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *BFF) setup(ctx context.Context, o Options) error {
	cfg := b.cfg
	secrets := cfg.Secrets
	if len(secrets) == 0 {
		s, err := devSecret(cfg.DataDir)
		if err != nil {
			return err
		}
		secrets = [][]byte{s}
		if !cfg.DevIdP {
			where := "kept in " + filepath.Join(cfg.DataDir, "dev-secret")
			if cfg.DataDir == "" {
				where = "random for this process (no DataDir): sessions end at restart"
			}
			b.log.Warn("no secret is set (Options.Secrets, NEXTAUTH_SECRET): using a development secret, " + where + "; " +
				"set one (openssl rand -base64 32) before deploying - authbff refuses to start without it when the URL is not loopback")
		}
	}
	b.keys.Store(newKeyring(secrets, len(secrets)))
	b.opts = o
	b.opts.Secrets, b.opts.Providers = slices.Clone(o.Secrets), slices.Clone(o.Providers)
	kind := "custom"
	b.store = o.Store
	if b.store == nil {
		s, err := openStore(cfg.SessionStore, b.log)
		if err != nil {
			return err
		}
		b.store, b.ownStore, kind = s, true, storeKind(cfg.SessionStore)
	}
	pctx, cancel := context.WithTimeout(ctx, startupCheck)
	if err := b.store.Ping(pctx); err != nil {
		b.log.Warn("the session store does not answer yet: requests needing a session answer 503 until it does", "err", err)
	}
	cancel()
	// Timed and counted before anything else sees it (the Manager still
	// finds the change feed, the refresher the lock).
	b.store = metrics.InstrumentStore(b.store, kind, b.metrics)
	if b.tracer != nil {
		b.store = tracing.Store(b.store, b.tracer, tracing.DBSystem(kind))
	}
	// Every session the Manager ends has its refresh token revoked by the
	// core, made below (ends happen only once requests are served).
	var core *nextauth.Core
	revoke := func(ctx context.Context, provider, refreshToken string) {
		if core != nil {
			core.RevokeRefreshToken(ctx, provider, refreshToken)
		}
	}
	mgr, err := session.NewManager(session.ManagerOptions{
		Store: b.store, Secrets: secrets, MaxAge: cfg.MaxAge, UpdateAge: cfg.UpdateAge, Logger: b.log,
		CacheTTL: cfg.CacheTTL, AbsoluteLifetime: cfg.AbsoluteMaxAge, MaxPerUser: cfg.MaxPerUser,
		Revoke: revoke,
		// The sessions the Manager ends by itself (per-user cap, absolute
		// lifetime) are session_ended events too.
		Ended: func(ctx context.Context, e session.Ended) {
			if core != nil {
				core.EmitEnded(ctx, e)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("bff: session manager: %w", err)
	}
	b.sessions = mgr
	b.metrics.CacheStats(mgr.CacheStats)
	providers := cfg.Providers
	if cfg.DevIdP {
		p, err := b.startDevIdP()
		if err != nil {
			return err
		}
		providers = []nextauth.Provider{p}
	}
	ids := make([]string, 0, len(providers))
	for _, p := range providers {
		ids = append(ids, p.ID)
	}
	b.metrics.DeclareProviders(ids...)
	names := make([]string, 0, len(cfg.Upstreams))
	for n := range cfg.Upstreams {
		names = append(names, n)
	}
	b.metrics.DeclareUpstreams(names...)
	no := nextauth.Options{
		Settings: cfg.Settings, Secrets: secrets, Manager: mgr, Store: b.store, Providers: providers,
		HTTPClient: o.HTTPClient, Logger: b.log, Metrics: b.metrics,
	}
	if b.tracer != nil {
		no.HTTPClient, no.RefreshSpan = traceClient(o.HTTPClient, b.tracer), refreshSpan(b.tracer)
	}
	b.core, err = nextauth.New(no)
	if err != nil {
		return err
	}
	core = b.core
	b.trusted = cfg.TrustedProxies
	b.spa = o.SPA
	b.hsts = cfg.Secure()
	b.normalizeProtected()
	b.proxy = newProxy(b)
	b.handler = b.routes()
	return nil
}

// Handler returns everything authbff serves: the NextAuth routes under the
// base path (default /api/auth), the API proxy under /api/proxy/, /healthz
// and /readyz, the development IdP under /_devidp when it runs, and (with
// Options.SPA) the SPA for every other path, ProtectedPaths guarded.
func (b *BFF) Handler() http.Handler { return b.handler }

// BasePath returns where the NextAuth routes live (default /api/auth).
func (b *BFF) BasePath() string { return b.cfg.BasePath }

// URL returns the public origin, scheme://host[:port].
func (b *BFF) URL() string { return b.cfg.Origin() }

// DevIdPPath returns where the development IdP is served ("/_devidp"),
// "" when a real provider is configured.
func (b *BFF) DevIdPPath() string {
	if b.devidp == nil {
		return ""
	}
	return devIdPPath
}

// DevIdPIssuer returns the development IdP's issuer, "" when a real
// provider is configured.
func (b *BFF) DevIdPIssuer() string {
	if b.devidp == nil {
		return ""
	}
	return b.devidp.Issuer()
}

var errDraining = errors.New("bff: shutting down")

// Drain makes /readyz answer 503 from now on (a shutdown has begun: load
// balancers should stop sending requests); everything else is still served.
func (b *BFF) Drain() { b.draining.Store(true) }

// Ready reports whether the session store answers (what /readyz checks).
func (b *BFF) Ready(ctx context.Context) error { return b.store.Ping(ctx) }

// Close stops background work and waits for it (the session manager's
// change feed and the revocations of ended sessions), closes the API
// proxy's idle upstream connections and the session store it opened (not
// Options.Store). It does not stop the HTTP server serving Handler(): shut
// that down first. Calling it again returns the first result.
func (b *BFF) Close() error {
	b.closeOnce.Do(func() {
		if b.core != nil {
			b.core.Close() // refreshes store their tokens before the store closes
		}
		if b.sessions != nil {
			b.sessions.Close()
		}
		if b.proxy != nil {
			b.proxy.close()
		}
		if b.store != nil && b.ownStore {
			b.closeErr = b.store.Close()
		}
		if b.devidp != nil {
			b.devidp.Close() // no state written into DataDir once Close returns
		}
	})
	return b.closeErr
}

// ErrUnavailable is wrapped by errors of a session store outage: the user is
// still signed in; answer 503 and let them retry.
var ErrUnavailable = session.ErrUnavailable

// ErrAccessTokenExpired is returned by Session.AccessToken when the access
// token has expired and cannot be renewed (the provider gave no refresh
// token): the user must sign in again. WriteError answers 401
// {"error":"access_token_expired"}.
var ErrAccessTokenExpired = errors.New("bff: access token expired")

// ErrNoSession is returned by Session.AccessToken when the session has ended
// (signed out elsewhere, or the IdP refused the refresh): sign in again.
// WriteError answers it 401 {"error":"unauthenticated"} and clears the
// session cookie.
var ErrNoSession = fmt.Errorf("bff: no session: %w", nextauth.ErrSessionEnded)
