// Command proxybase is the reference for authbff's API proxy in bench/run:
// the least a Go reverse proxy does to turn a browser's session cookie into
// a bearer token. It checks the header X-CSRF: 1 (authbff requires it, the
// benchmark sends it to both), looks the cookie up in an in-memory map
// (sync.RWMutex) and forwards /api/proxy/<name>/<path> to -upstream with
// net/http/httputil.ReverseProxy over a pooled http.Transport, the Cookie
// header replaced by Authorization: Bearer <token>. No logging, no session
// store, no crypto.
//
//	proxybase -addr 127.0.0.1:8082 -upstream http://127.0.0.1:9000 \
//	    [-token <cookie value>]... [-tokens <file, one per line>] [-bearer-len 900] [-max-idle 1024]
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

const cookieName = "next-auth.session-token"

type tokens []string

func (t *tokens) String() string     { return strings.Join(*t, ",") }
func (t *tokens) Set(v string) error { *t = append(*t, v); return nil }

type bearerKey struct{}

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "listen address")
	up := flag.String("upstream", "", "upstream base URL (required)")
	file := flag.String("tokens", "", "file of cookie values to accept, one per line")
	blen := flag.Int("bearer-len", 900, "length of the bearer token each cookie maps to (authbff's is the IdP's access token)")
	maxIdle := flag.Int("max-idle", 1024, "idle upstream connections kept (per host)")
	var toks tokens
	flag.Var(&toks, "token", "a cookie value to accept (repeatable)")
	flag.Parse()
	target, err := url.Parse(*up)
	if err != nil || target.Scheme == "" || target.Host == "" {
		log.Fatalf("proxybase: -upstream must be an absolute URL, got %q", *up)
	}
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			log.Fatalf("proxybase: %v", err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if t := strings.TrimSpace(sc.Text()); t != "" {
				toks = append(toks, t)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			log.Fatalf("proxybase: %s: %v", *file, err)
		}
	}
	sessions := make(map[string]string, len(toks))
	for _, t := range toks {
		sessions[t] = "Bearer " + randomToken(*blen)
	}
	var mu sync.RWMutex

	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			rest := strings.TrimPrefix(pr.In.URL.Path, "/api/proxy/")
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				rest = rest[i:]
			} else {
				rest = "/"
			}
			pr.Out.URL.Scheme, pr.Out.URL.Host = target.Scheme, target.Host
			pr.Out.URL.Path = strings.TrimSuffix(target.Path, "/") + rest
			pr.Out.URL.RawPath = ""
			pr.Out.Host = ""
			pr.Out.Header.Del("Cookie")
			pr.Out.Header.Del("X-Csrf")
			pr.Out.Header.Set("Authorization", pr.In.Context().Value(bearerKey{}).(string))
		},
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        *maxIdle,
			MaxIdleConnsPerHost: *maxIdle,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("/api/proxy/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-CSRF") != "1" {
			http.Error(w, `{"error":"csrf_header_missing"}`, http.StatusUnauthorized)
			return
		}
		var bearer string
		if ck, err := r.Cookie(cookieName); err == nil {
			mu.RLock()
			bearer = sessions[ck.Value]
			mu.RUnlock()
		}
		if bearer == "" {
			http.Error(w, `{"error":"unauthenticated"}`, http.StatusUnauthorized)
			return
		}
		rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bearerKey{}, bearer)))
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	log.Printf("proxybase listening on %s -> %s (%d sessions)", *addr, target, len(sessions))
	log.Fatal(srv.ListenAndServe())
}

// randomToken returns n URL-safe characters.
func randomToken(n int) string {
	b := make([]byte, (n*3+3)/4)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
