package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/bff/bffgin"
	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/metrics"
)

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

// Main is the authbff binary: a Gin engine with the bff library mounted,
// served on one listener. Create it with NewMain, then Run it; Close
// releases everything.
type Main struct {
	// BFF is the library instance the binary serves.
	BFF    *bff.BFF
	Logger *slog.Logger

	listener net.Listener
	server   *http.Server
	admin    *metrics.Server // /metrics, /healthz, /readyz on METRICS_ADDR; nil when off
}

// NewMain reads the configuration (every problem at once), listens, and
// prepares (but does not start) the HTTP server.
func NewMain(opts Options) (*Main, error) {
	src := opts.Source
	o, err := bff.OptionsFromLookup(src.Getenv, src.Environ, src.Dir)
	if err != nil {
		return nil, err
	}
	ln := opts.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", ":"+strconv.Itoa(o.Port)); err != nil {
			return nil, fmt.Errorf("main: listen on port %d: %w (set PORT to a free port)", o.Port, err)
		}
	}
	if o.URL == "" {
		// The default URL names the port actually listened on.
		if a, ok := ln.Addr().(*net.TCPAddr); ok {
			o.Port = a.Port
		}
	}
	o.Logger, o.HTTPClient = opts.Logger, opts.HTTPClient
	if o.Logger == nil {
		o.Logger = bff.NewLogger(o.LogLevel, o.LogFormat)
	}
	b, err := bff.New(context.Background(), o)
	if err != nil {
		ln.Close()
		return nil, err
	}
	var admin *metrics.Server
	if o.MetricsAddr != "" {
		if admin, err = metrics.Listen(o.MetricsAddr, b.AdminHandler(), o.Logger); err != nil {
			b.Close()
			ln.Close()
			return nil, fmt.Errorf("main: METRICS_ADDR=%s: %w (set METRICS_ADDR to a free address, or to nothing to turn metrics off)", o.MetricsAddr, err)
		}
	}
	gin.SetMode(gin.ReleaseMode) // the binary's choice; the library sets no globals
	engine := gin.New()
	engine.ContextWithFallback = true
	engine.RedirectTrailingSlash = false
	engine.RedirectFixedPath = false
	bffgin.Mount(engine, b)
	return &Main{
		BFF: b, Logger: o.Logger, listener: ln, admin: admin,
		server: &http.Server{
			Handler:           engine,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
		},
	}, nil
}

// URL returns the public URL the server answers on.
func (m *Main) URL() string { return m.BFF.URL() }

// MetricsAddr returns the address /metrics is served on, "" when off.
func (m *Main) MetricsAddr() string {
	if m.admin == nil {
		return ""
	}
	return m.admin.Addr().String()
}

// Run serves HTTP until ctx is done or the server fails.
func (m *Main) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- m.server.Serve(m.listener) }()
	if m.admin != nil {
		go func() {
			if err := m.admin.Serve(ctx); err != nil {
				errc <- err
			}
		}()
	}
	m.Logger.Info("authbff listening", "url", m.BFF.URL(), "listen", m.listener.Addr().String(),
		"base_path", m.BFF.BasePath(), "metrics", m.MetricsAddr())
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
	if cerr := m.BFF.Close(); err == nil {
		err = cerr
	}
	return err
}
