package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/bff/bffgin"
	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/metrics"
)

// Options are what New needs from its caller.
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

// Server is the API server the authbff binary runs: a Gin engine with the
// bff library mounted, served on one listener. Create it with New, then Run
// it; Close releases everything.
type Server struct {
	// BFF is the library instance the server serves.
	BFF *bff.BFF
	// Logger is where the server logs.
	Logger *slog.Logger

	listener net.Listener
	server   *http.Server
	listen   bff.ListenOptions
	shutOnce sync.Once
	shutErr  error
	admin    *metrics.Server // /metrics, /healthz, /readyz on METRICS_ADDR; nil when off
}

// New reads the configuration (every problem at once), listens, and
// prepares (but does not start) the HTTP server.
func New(opts Options) (*Server, error) {
	src := opts.Source
	o, err := bff.OptionsFromLookup(src.Getenv, src.Environ, src.Dir)
	if err != nil {
		return nil, err
	}
	devIdP := len(o.Providers) == 0
	if devIdP && o.Listen.HostSet && !config.Loopback(o.Listen.Host) {
		o.Logger = loggerFor(opts, o)
		o.Logger.Warn("HOST listens beyond loopback while the development IdP runs: it still answers only loopback peers and DEVIDP_ALLOW_CIDRS "+
			"(in a container, the bridge network the published port comes through, e.g. 172.17.0.0/16), and anyone connecting from those can sign in as any demo user without a password",
			"host", o.Listen.Host, "devidp_allow_cidrs", strings.Join(o.DevIdPAllowCIDRs, ","))
	}
	ln := opts.Listener
	if ln == nil {
		addr := net.JoinHostPort(o.Listen.Host, strconv.Itoa(o.Port))
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("main: listen on %s: %w (set PORT to a free port)", addr, err)
		}
	}
	server := &http.Server{IdleTimeout: o.Listen.IdleTimeout}
	ln = bff.HardenServer(server, o.Listen.MaxConnections).Listener(ln)
	if o.URL == "" {
		// The default URL names the port actually listened on.
		if a, ok := ln.Addr().(*net.TCPAddr); ok {
			o.Port = a.Port
		}
	}
	o.Logger, o.HTTPClient = loggerFor(opts, o), opts.HTTPClient
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
	if len(o.CORSOrigins) > 0 {
		engine.Use(corsMiddleware(b.URL(), o.CORSOrigins))
	}
	bffgin.Mount(engine, b)
	server.Handler = bff.LimitRequestRead(engine, o.Listen.ReadTimeout)
	return &Server{
		BFF: b, Logger: o.Logger, listener: ln, admin: admin, listen: o.Listen,
		server: server,
	}, nil
}

// loggerFor is the caller's logger, else the one LOG_LEVEL/LOG_FORMAT make.
func loggerFor(opts Options, o bff.Options) *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	if opts.Logger != nil {
		return opts.Logger
	}
	return bff.NewLogger(o.LogLevel, o.LogFormat)
}

// URL returns the public URL the server answers on.
func (m *Server) URL() string { return m.BFF.URL() }

// MetricsAddr returns the address /metrics is served on, "" when off.
func (m *Server) MetricsAddr() string {
	if m.admin == nil {
		return ""
	}
	return m.admin.Addr().String()
}

// Run serves HTTP until ctx is done (then it drains and shuts down, see
// Shutdown) or the server fails.
func (m *Server) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- m.server.Serve(m.listener) }()
	// The metrics listener outlives the drain: scrapes and its /readyz
	// (503 while draining) go on until the shutdown is over.
	adminCtx, stopAdmin := context.WithCancel(context.Background())
	defer stopAdmin()
	if m.admin != nil {
		go func() {
			if err := m.admin.Serve(adminCtx); err != nil {
				errc <- err
			}
		}()
	}
	m.Logger.Info("authbff listening", "url", m.BFF.URL(), "listen", m.listener.Addr().String(),
		"base_path", m.BFF.BasePath(), "metrics", m.MetricsAddr())
	select {
	case <-ctx.Done():
		return m.Shutdown()
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// Shutdown stops serving gracefully: /readyz answers 503 at once, the
// listener keeps taking requests for SHUTDOWN_DRAIN_DELAY (so a load
// balancer stops sending new ones first), then new connections are refused
// and in-flight requests get up to SHUTDOWN_TIMEOUT to finish. It logs the
// start and the end. Calling it again returns the first result.
func (m *Server) Shutdown() error {
	m.shutOnce.Do(func() {
		start := time.Now()
		m.BFF.Drain()
		m.Logger.Info("shutdown: draining; /readyz answers 503, requests are still served",
			"drain_delay", m.listen.DrainDelay.String(), "timeout", m.listen.ShutdownTimeout.String())
		time.Sleep(m.listen.DrainDelay)
		ctx, cancel := context.WithTimeout(context.Background(), m.listen.ShutdownTimeout)
		defer cancel()
		m.shutErr = m.server.Shutdown(ctx)
		if m.shutErr != nil {
			m.Logger.Warn("shutdown: in-flight requests did not finish in time and were cut", "timeout", m.listen.ShutdownTimeout.String(), "err", m.shutErr)
			m.server.Close()
		} else {
			m.Logger.Info("shutdown: complete, every in-flight request finished", "took", time.Since(start).Round(time.Millisecond).String())
		}
	})
	return m.shutErr
}

// Close shuts the server down (see Shutdown) if Run has not, and closes the
// session store.
func (m *Server) Close() error {
	err := m.Shutdown()
	if cerr := m.BFF.Close(); err == nil {
		err = cerr
	}
	return err
}
