// Command libserve is the authbff binary's wiring (api.New: the bff
// library mounted with bffgin on a release-mode Gin engine, the same
// http.Server timeouts, configuration from the same environment variables)
// plus what only a benchmark needs, none of which is in the product:
//
//   - -load-bolt <file>: the session store is an in-memory store (memstore)
//     filled at start with every record of a boltstore file, so that the
//     memory store can be measured with a million real sessions (nothing
//     outside the process can write into it);
//   - -nocache-port <port>: a second BFF on the same store, with the
//     session cache off, on its own port;
//   - -stats-addr <addr>: GET /stats answers the store's Get and write
//     (Create, Update: "store_saves") counts as JSON (the cache's hit
//     ratio is 1 - Gets / session reads), and
//     /debug/pprof/ serves net/http/pprof (for the sign-in CPU profile).
//
// Keep the wiring in sync with api/serve.go (New).
//
//	PORT=3001 NEXTAUTH_SECRET=... SESSION_STORE=memory ... libserve -load-bolt x.db -stats-addr 127.0.0.1:7001
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	bolt "go.etcd.io/bbolt"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/bff/bffgin"
	"github.com/authbff/authbff/internal/refresh"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
)

func main() {
	loadBolt := flag.String("load-bolt", "", "fill an in-memory store with this boltstore file's records (SESSION_STORE must be memory)")
	nocachePort := flag.Int("nocache-port", 0, "also serve a BFF with the session cache off on this port")
	statsAddr := flag.String("stats-addr", "", "serve /stats and /debug/pprof/ on this address")
	flag.Parse()
	if err := run(*loadBolt, *nocachePort, *statsAddr); err != nil {
		log.Fatalf("libserve: %v", err)
	}
}

func run(loadBolt string, nocachePort int, statsAddr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := bff.OptionsFromEnv()
	if err != nil {
		return err
	}
	port := 3000
	if s := os.Getenv("PORT"); s != "" {
		if port, err = strconv.Atoi(s); err != nil {
			return fmt.Errorf("PORT=%q: %w", s, err)
		}
	}
	urlSet := os.Getenv("NEXTAUTH_URL") != "" || os.Getenv("AUTH_URL") != ""
	var inner session.Store
	if loadBolt != "" {
		if o.StoreSpec != "memory" {
			return fmt.Errorf("-load-bolt needs SESSION_STORE=memory, not %q", o.StoreSpec)
		}
		ms := memstore.New(memstore.Options{})
		t0 := time.Now()
		n, err := fill(ctx, ms, loadBolt)
		if err != nil {
			return err
		}
		log.Printf("libserve: loaded %d sessions from %s in %.1f s", n, loadBolt, time.Since(t0).Seconds())
		inner = ms
	} else if inner, err = bff.OpenStore(o.StoreSpec); err != nil {
		return err
	}
	defer inner.Close()
	store, counts := wrap(inner)
	o.Store = store
	o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	errc := make(chan error, 3)
	primary, err := serve(ctx, o, port, urlSet, errc)
	if err != nil {
		return err
	}
	defer primary.close()
	if nocachePort > 0 {
		o2 := o
		o2.SessionCacheTTL = -1
		if urlSet {
			o2.URL = "http://127.0.0.1:" + strconv.Itoa(nocachePort)
		}
		nc, err := serve(ctx, o2, nocachePort, urlSet, errc)
		if err != nil {
			return err
		}
		defer nc.close()
	}
	if statsAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]int64{"store_gets": counts.gets.Load(), "store_saves": counts.saves.Load()})
		})
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		ln, err := net.Listen("tcp", statsAddr)
		if err != nil {
			return fmt.Errorf("stats listener: %w", err)
		}
		go func() { errc <- http.Serve(ln, mux) }()
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

type server struct {
	b   *bff.BFF
	srv *http.Server
}

func (s *server) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	_ = s.b.Close()
}

// serve is api.New + Server.Run for o on port.
func serve(ctx context.Context, o bff.Options, port int, urlSet bool, errc chan<- error) (*server, error) {
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return nil, fmt.Errorf("listen on port %d: %w", port, err)
	}
	if !urlSet {
		if a, ok := ln.Addr().(*net.TCPAddr); ok {
			o.URL = "http://localhost:" + strconv.Itoa(a.Port)
		}
	}
	b, err := bff.New(ctx, o)
	if err != nil {
		ln.Close()
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	engine.ContextWithFallback = true
	engine.RedirectTrailingSlash = false
	engine.RedirectFixedPath = false
	bffgin.Mount(engine, b)
	s := &server{b: b, srv: &http.Server{Handler: engine, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	return s, nil
}

// fill copies every session record of a boltstore file into st.
func fill(ctx context.Context, st session.Store, path string) (int, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return 0, fmt.Errorf("load %s: %w", path, err)
	}
	defer db.Close()
	n := 0
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("sessions"))
		if b == nil {
			return errors.New("no sessions bucket (not a boltstore file?)")
		}
		return b.ForEach(func(k, v []byte) error {
			rec, err := session.UnmarshalRecord(string(k), v)
			if err != nil {
				return fmt.Errorf("record %.8s: %w", k, err)
			}
			n++
			return st.Create(ctx, rec)
		})
	})
	if err != nil {
		return n, fmt.Errorf("load %s: %w", path, err)
	}
	return n, nil
}

// counts are the store calls a wrapped store has seen.
type counts struct{ gets, saves atomic.Int64 }

type countingStore struct {
	session.Store
	c *counts
}

func (s countingStore) Get(ctx context.Context, id string) (*session.Record, error) {
	s.c.gets.Add(1)
	return s.Store.Get(ctx, id)
}

func (s countingStore) Create(ctx context.Context, rec *session.Record) error {
	s.c.saves.Add(1)
	return s.Store.Create(ctx, rec)
}

func (s countingStore) Update(ctx context.Context, rec *session.Record, version int64) error {
	s.c.saves.Add(1)
	return s.Store.Update(ctx, rec, version)
}

// wrap counts st's Gets and writes (Creates and Updates), keeping the
// optional interfaces the library looks for (a shared store's change feed and refresh lock).
func wrap(st session.Store) (session.Store, *counts) {
	c := &counts{}
	cs := countingStore{Store: st, c: c}
	w, isW := st.(session.Watcher)
	l, isL := st.(refresh.Locker)
	switch {
	case isW && isL:
		return struct {
			countingStore
			session.Watcher
			refresh.Locker
		}{cs, w, l}, c
	case isW:
		return struct {
			countingStore
			session.Watcher
		}{cs, w}, c
	case isL:
		return struct {
			countingStore
			refresh.Locker
		}{cs, l}, c
	}
	return cs, c
}
