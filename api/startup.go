package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/bffhook"
	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/doctor"
	"github.com/authbff/authbff/internal/nextauth"
)

// startupCheckTimeout bounds the whole start-up check: its warnings come
// within it, and it never holds anything up.
const startupCheckTimeout = 8 * time.Second

// startupHTTPTimeout bounds one request of the start-up check.
const startupHTTPTimeout = 5 * time.Second

// redisLog routes go-redis's own log lines (pool and reconnection
// messages, which it otherwise prints raw to stderr) into the structured
// logger.
type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	r.l.WarnContext(ctx, "redis: "+msg, "component", "go-redis")
}

// routeRedisLogs makes l go-redis's logger. It is process-wide, so the
// binary sets it (the library sets no globals).
func routeRedisLogs(l *slog.Logger) { redis.SetLogger(redisLog{l}) }

// logConfigWarnings logs what the configuration holds that is suspicious
// but not wrong: settings that are set but never read (misspellings).
func logConfigWarnings(l *slog.Logger, ws []config.Problem) {
	for _, w := range ws {
		l.Warn(w.Var+" "+w.Message+": "+w.Fix, "variable", w.Var)
	}
}

// startChecks runs the start-up check in the background (see
// doctor.StartupChecks) and logs one WARN per problem, with its fix and a
// pointer to `authbff doctor`. The returned stop cancels it and waits for
// it, so nothing outlives Run.
func (m *Server) startChecks(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithTimeout(ctx, startupCheckTimeout)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel()
		m.runChecks(ctx)
	}()
	return func() { cancel(); <-done }
}

func (m *Server) runChecks(ctx context.Context) {
	o := m.opts
	var (
		set       *nextauth.Settings
		providers []nextauth.Provider
	)
	if !o.DevIdP { // the development IdP is served by this process: nothing to reach
		var err error
		if set, providers, err = bffhook.Resolve(o); err != nil {
			return // New already succeeded with these options
		}
	}
	hc := o.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		defer tr.CloseIdleConnections()
		hc = &http.Client{Transport: tr, Timeout: startupHTTPTimeout}
	}
	store := bff.RedactStoreSpec(o.StoreSpec)
	for _, f := range doctor.StartupChecks(ctx, set, providers, hc, m.BFF.Ready, store) {
		args := []any{"fix", f.Fix}
		if f.Provider != "" {
			args = append(args, "provider", f.Provider)
		}
		if f.Target != "" {
			args = append(args, "target", f.Target)
		}
		m.Logger.Warn("start-up check: "+f.What+" - fix: "+f.Fix+" (run `authbff doctor` for details)", args...)
	}
}
