package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/authbff/authbff/api"
	"github.com/authbff/authbff/internal/config"
)

// serveCmd runs the API server (package api) until ctx is done; --port and
// --host override PORT and HOST.
func serveCmd(ctx context.Context, inv *invocation, src config.Source, _, stderr io.Writer) int {
	src = override(src, map[string]string{"PORT": inv.port, "HOST": inv.host})
	// From now on SIGHUP no longer ends the process: one during the start
	// waits for the server, then reloads.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	s, err := api.New(api.Options{Source: src})
	if err != nil {
		signal.Stop(hup)
		fmt.Fprintf(stderr, "authbff: cannot start:\n%v\n", err)
		return 1
	}
	defer s.Close()
	defer reloadOnHangup(s, hup)()
	if err := s.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "authbff: %v\n", err)
		return 1
	}
	return 0
}

// reloadOnHangup re-reads the secrets (s.ReloadSecrets) on every SIGHUP
// hup receives (signal.Notify'd) until the returned stop is called.
func reloadOnHangup(s *api.Server, hup chan os.Signal) (stop func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range hup {
			_ = s.ReloadSecrets() // it logs what changed, or why nothing did
		}
	}()
	return func() {
		signal.Stop(hup)
		close(hup)
		<-done
	}
}

// override is src with the non-empty values of vars in place of the
// environment's (and the dotenv files') own.
func override(src config.Source, vars map[string]string) config.Source {
	set := map[string]string{}
	for k, v := range vars {
		if v != "" {
			set[k] = v
		}
	}
	if len(set) == 0 {
		return src
	}
	getenv, environ := src.Getenv, src.Environ
	src.Getenv = func(k string) (string, bool) {
		if v, ok := set[k]; ok {
			return v, true
		}
		if getenv == nil {
			for _, kv := range environ {
				if name, v, _ := strings.Cut(kv, "="); name == k {
					return v, true
				}
			}
			return "", false
		}
		return getenv(k)
	}
	src.Environ = nil
	for _, kv := range environ {
		if name, _, _ := strings.Cut(kv, "="); set[name] == "" {
			src.Environ = append(src.Environ, kv)
		}
	}
	for k, v := range set {
		src.Environ = append(src.Environ, k+"="+v)
	}
	return src
}
