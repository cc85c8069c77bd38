package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/boltstore"
	"github.com/authbff/authbff/internal/session/memstore"
	"github.com/authbff/authbff/internal/session/redisstore"
)

// DevIdPPath is where the embedded development IdP is mounted.
const DevIdPPath = "/_devidp"

// devClientID is the dev IdP's app client id.
const devClientID = "authbff-dev"

// Options are what Main needs from its caller.
type Options struct {
	// Source is where configuration is read from.
	Source config.Source
	// Listener, when set, is served instead of listening on the configured
	// port (tests pass one on 127.0.0.1:0).
	Listener net.Listener
	// Logger receives structured logs; nil writes text logs to stderr.
	Logger *slog.Logger
	// HTTPClient is used for calls to identity providers; nil uses a default.
	HTTPClient *http.Client
}

// Main is one running authbff: configuration, stores, providers and the HTTP
// server. Create it with NewMain, then Run it; Close releases everything.
type Main struct {
	Config *config.Config
	Logger *slog.Logger
	// DevIdP is the embedded development IdP, nil when a real provider is used.
	DevIdP *devidp.IdP

	app      *App
	listener net.Listener
	server   *http.Server
	store    session.Store
	sessions *session.Manager
}

// NewMain loads and validates the configuration, opens the session store,
// and prepares (but does not start) the HTTP server.
func NewMain(opts Options) (*Main, error) {
	cfg, err := config.Load(opts.Source)
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = newLogger(cfg.LogLevel)
	}
	m := &Main{Config: cfg, Logger: logger, listener: opts.Listener}
	if m.listener == nil {
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
		if err != nil {
			return nil, fmt.Errorf("main: listen on port %d: %w (set PORT to a free port)", cfg.Port, err)
		}
		m.listener = ln
	}
	if cfg.Port == 0 || opts.Listener != nil {
		fixURLPort(cfg, m.listener)
	}
	if err := m.setup(opts); err != nil {
		m.listener.Close()
		if m.sessions != nil {
			m.sessions.Close()
		}
		if m.store != nil {
			m.store.Close()
		}
		return nil, err
	}
	return m, nil
}

// fixURLPort points the default URL at the port actually listened on when
// NEXTAUTH_URL/AUTH_URL were not given.
func fixURLPort(cfg *config.Config, ln net.Listener) {
	if cfg.URLSet {
		return
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		cfg.URL.Host = cfg.URL.Hostname() + ":" + strconv.Itoa(a.Port)
	}
}

func (m *Main) setup(opts Options) error {
	cfg := m.Config
	secrets := cfg.Secrets
	if len(secrets) == 0 {
		s, err := devSecret(cfg.DataDir)
		if err != nil {
			return err
		}
		secrets = [][]byte{s}
	}
	store, err := openStore(cfg, m.Logger)
	if err != nil {
		return err
	}
	m.store = store
	mgr, err := session.NewManager(session.ManagerOptions{
		Store: store, Secrets: secrets, MaxAge: cfg.MaxAge, UpdateAge: cfg.UpdateAge, Logger: m.Logger,
		CacheTTL: cfg.SessionCacheTTL,
	})
	if err != nil {
		return fmt.Errorf("main: session manager: %w", err)
	}
	m.sessions = mgr
	providers := cfg.Providers
	if cfg.DevIdP {
		p, idp, err := m.devProvider()
		if err != nil {
			return err
		}
		m.DevIdP = idp
		providers = []config.Provider{p}
		if cfg.Upstreams["demo"] == nil {
			// The dev IdP's demo API, so /api/proxy/demo/me works out of the box.
			cfg.Upstreams["demo"] = &url.URL{Scheme: cfg.URL.Scheme, Host: cfg.URL.Host, Path: DevIdPPath + "/demo-api"}
		}
		m.Logger.Warn("development IdP - not for production: no identity provider is configured, so authbff serves its own Cognito-shaped IdP with demo users",
			"issuer", idp.Issuer(), "configure", "set COGNITO_CLIENT_ID, COGNITO_CLIENT_SECRET and COGNITO_ISSUER (see README)")
	}
	app, err := newApp(appOptions{
		Config: cfg, Secrets: secrets, Manager: mgr, Store: store, Providers: providers,
		HTTPClient: opts.HTTPClient, Logger: m.Logger, DevIdP: m.DevIdP,
	})
	if err != nil {
		return err
	}
	m.app = app
	m.server = &http.Server{
		Handler:           app.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	return nil
}

func (m *Main) devProvider() (config.Provider, *devidp.IdP, error) {
	cfg := m.Config
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return config.Provider{}, nil, err
	}
	origin := cfg.Origin()
	idp, err := devidp.New(devidp.Options{
		BaseURL: origin + DevIdPPath,
		Clients: []devidp.Client{{
			ID:           devClientID,
			Secret:       hex.EncodeToString(secret),
			RedirectURIs: []string{cfg.CallbackURL("cognito")},
			LogoutURLs:   []string{origin, origin + "/"},
		}},
		// Keys and refresh tokens survive a restart, like the sessions.
		StateFile: filepath.Join(cfg.DataDir, "devidp-state.json"),
		Logger:    m.Logger.With("component", "devidp"),
	})
	if err != nil {
		return config.Provider{}, nil, fmt.Errorf("main: development IdP: %w", err)
	}
	return config.Provider{
		ID: "cognito", Name: "Cognito", Issuer: idp.Issuer(), ClientID: devClientID,
		ClientSecret: hex.EncodeToString(secret), Cognito: true,
		Scopes: []string{"openid", "profile", "email"}, AuthStyle: config.AuthStylePost,
	}, idp, nil
}

// devSecret returns the development secret kept in dataDir, making it on
// first use, so sessions survive a restart without NEXTAUTH_SECRET.
func devSecret(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, "dev-secret")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 64 {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("main: dev secret: %w (set AUTHBFF_DATA_DIR to a writable directory)", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	s := hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("main: dev secret: %w", err)
	}
	return []byte(s), nil
}

func openStore(cfg *config.Config, logger *slog.Logger) (session.Store, error) {
	spec := cfg.SessionStore
	switch {
	case spec == "memory":
		return memstore.New(memstore.Options{}), nil
	case strings.HasPrefix(spec, "bolt:"):
		s, err := boltstore.Open(strings.TrimPrefix(spec, "bolt:"), boltstore.Options{Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("main: SESSION_STORE=%s: %w", spec, err)
		}
		return s, nil
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"):
		s, err := redisstore.New(redisstore.Options{URL: spec, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("main: SESSION_STORE=%s: %w", redactURL(spec), err)
		}
		return s, nil
	case strings.HasPrefix(spec, "redis-sentinel://"), strings.HasPrefix(spec, "redis-cluster://"):
		u, err := redisstore.ParseUniversalURL(spec)
		if err != nil {
			return nil, fmt.Errorf("main: SESSION_STORE: %w", err)
		}
		s, err := redisstore.New(redisstore.Options{Universal: u, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("main: SESSION_STORE: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("main: SESSION_STORE=%q: unknown store (use memory, bolt:<path>, redis://..., redis-sentinel://... or redis-cluster://...)", spec)
}

// redactURL hides a password in a store URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// URL returns the public URL the server answers on.
func (m *Main) URL() string { return m.Config.Origin() }

// Run serves HTTP until ctx is done or the server fails.
func (m *Main) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- m.server.Serve(m.listener) }()
	m.Logger.Info("authbff listening", "url", m.Config.Origin(), "base_path", m.Config.BasePath,
		"session_store", redactURL(m.Config.SessionStore), "flavor", m.Config.Flavor)
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// Close stops the server (letting requests finish for a few seconds) and
// closes the session store.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := m.server.Shutdown(ctx)
	if m.sessions != nil {
		m.sessions.Close()
	}
	if cerr := m.store.Close(); err == nil {
		err = cerr
	}
	return err
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	if os.Getenv("LOG_FORMAT") == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
