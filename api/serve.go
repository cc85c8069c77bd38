package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/bff/bffgin"
	"github.com/authbff/authbff/internal/bffhook"
	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/metrics"
	"github.com/authbff/authbff/internal/telemetry"
	"github.com/authbff/authbff/internal/tracectx"
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
	listen   config.Server
	shutOnce sync.Once
	shutErr  error
	admin    *metrics.Server          // /metrics, /healthz, /readyz on METRICS_ADDR; nil when off
	traces   *sdktrace.TracerProvider // OTEL_*'s provider; nil when off (flushed by Close)
	opts     bff.Options              // what New made the BFF from (the start-up check's settings)
	src      config.Source            // where the settings came from: ReloadSecrets reads it again (reload.go)
	reload   reloadState
}

// LoadSettings reads the environment and dotenv files of src (every
// problem at once, named by variable) into the library's Options and the
// binary's own settings (PORT, HOST, timeouts, METRICS_ADDR, LOG_*: the
// rest of cfg is what o holds).
func LoadSettings(src config.Source) (o bff.Options, cfg *config.Config, err error) {
	cfg, err = config.Load(src)
	if err != nil {
		return bff.Options{}, nil, err
	}
	v, err := bffhook.OptionsFromConfig(cfg)
	if err != nil {
		return bff.Options{}, nil, err
	}
	o = v.(bff.Options)
	o.Logger = NewLogger(cfg.LogLevel, cfg.LogFormat)
	routeRedisLogs(o.Logger) // every command's go-redis lines are structured too
	return o, cfg, nil
}

// New reads the configuration (every problem at once), listens, and
// prepares (but does not start) the HTTP server.
func New(opts Options) (*Server, error) {
	o, cfg, err := LoadSettings(opts.Source)
	if err != nil {
		return nil, err
	}
	if opts.Logger != nil {
		o.Logger = opts.Logger
	}
	routeRedisLogs(o.Logger)
	logConfigWarnings(o.Logger, cfg.Warnings)
	listen := cfg.Server
	if o.DevIdP && listen.HostSet && !config.Loopback(listen.Host) {
		nets := make([]string, len(o.DevIdPAllowCIDRs))
		for i, p := range o.DevIdPAllowCIDRs {
			nets[i] = p.String()
		}
		o.Logger.Warn("HOST listens beyond loopback while the development IdP runs: it still answers only loopback peers and DEVIDP_ALLOW_CIDRS "+
			"(in a container, the bridge network the published port comes through, e.g. 172.17.0.0/16), and anyone connecting from those can sign in as any demo user without a password",
			"host", listen.Host, "devidp_allow_cidrs", strings.Join(nets, ","))
	}
	ln := opts.Listener
	if ln == nil {
		addr := net.JoinHostPort(listen.Host, strconv.Itoa(cfg.Port))
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("main: listen on %s: %w (set PORT to a free port)", addr, err)
		}
	}
	server := &http.Server{IdleTimeout: listen.IdleTimeout}
	ln = bff.HardenServer(server, listen.MaxConnections).Listener(ln)
	if !cfg.URLSet {
		// The default URL names the port actually listened on.
		if a, ok := ln.Addr().(*net.TCPAddr); ok {
			o.URL = "http://localhost:" + strconv.Itoa(a.Port)
		}
	}
	o.HTTPClient = opts.HTTPClient
	// OpenTelemetry traces when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set;
	// otherwise no provider at all (and the library installs nothing).
	traces, err := telemetry.New(context.Background(), o.Logger)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if traces != nil {
		o.TracerProvider = traces
		proto, _ := telemetry.Protocol(os.Getenv)
		o.Logger.Info("traces: exporting OpenTelemetry spans over OTLP (OTEL_EXPORTER_OTLP_*)", "protocol", proto)
	}
	b, err := bff.New(context.Background(), o)
	if err != nil {
		ln.Close()
		_ = shutdownTraces(traces)
		return nil, err
	}
	if err := checkUpstreams(b); err != nil { // upstreams.go
		b.Close()
		ln.Close()
		_ = shutdownTraces(traces)
		return nil, err
	}
	var admin *metrics.Server
	if cfg.MetricsAddr != "" {
		admin, err = metrics.Listen(cfg.MetricsAddr, b.AdminHandler(), o.Logger)
		switch {
		case err != nil && cfg.MetricsAddrSet:
			b.Close()
			ln.Close()
			_ = shutdownTraces(traces)
			return nil, fmt.Errorf("main: METRICS_ADDR=%s: %w (set METRICS_ADDR to a free address, or to nothing to turn metrics off)", cfg.MetricsAddr, err)
		case err != nil:
			// The default address is taken, most likely by another authbff
			// on this machine: run without metrics rather than not at all.
			admin = nil
			o.Logger.Warn("metrics are off: the default METRICS_ADDR is taken (another authbff on this machine?), so /metrics, /healthz, /readyz and the admin endpoint are not served; "+
				"set METRICS_ADDR to a free address (e.g. 127.0.0.1:9465) to have them", "metrics_addr", cfg.MetricsAddr, "err", err)
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
	server.Handler = bff.LimitRequestRead(engine, listen.ReadTimeout)
	return &Server{
		BFF: b, Logger: o.Logger, listener: ln, admin: admin, listen: listen,
		server: server, opts: o, src: opts.Source, traces: traces,
	}, nil
}

// NewLogger makes the binary's logger: level debug, info, warn or error;
// format "json" or text; to stderr, with the trace id of the request.
func NewLogger(level, format string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(tracectx.LogHandler(slog.NewJSONHandler(os.Stderr, opts)))
	}
	return slog.New(tracectx.LogHandler(slog.NewTextHandler(os.Stderr, opts)))
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
	// Bounded, in the background, warnings only: an IdP outage at boot
	// must not keep the BFF from serving.
	defer m.startChecks(ctx)()
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
	// Last: the spans of the drained requests and of the close are flushed.
	if terr := shutdownTraces(m.traces); terr != nil {
		m.Logger.Warn("traces: the last spans could not be exported", "err", terr)
	}
	return err
}

// tracesFlush bounds the flush of the last spans at exit.
const tracesFlush = 5 * time.Second

// shutdownTraces flushes and stops the OTLP exporter (nil: nothing).
func shutdownTraces(tp *sdktrace.TracerProvider) error {
	if tp == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), tracesFlush)
	defer cancel()
	return tp.Shutdown(ctx)
}
