// Command upstream is the API bench/run proxies to: a tiny JSON server on
// loopback, so that the proxy rows measure the proxy, not the API. Every
// path answers the same small JSON document; a request without a bearer
// token gets 401 (so a proxy that drops the token shows up as errors).
// GET /_stats answers {"conns_opened": n}: the TCP connections accepted so
// far (a proxy that does not reuse its upstream connections opens many).
//
//	upstream -addr 127.0.0.1:9000
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// body is what every authorized request gets (about 150 bytes, the size of
// a small API answer).
const body = `{"items":[{"id":1,"name":"alpha","done":false},{"id":2,"name":"beta","done":true},{"id":3,"name":"gamma","done":false}],"next":null}`

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	flag.Parse()
	size := strconv.Itoa(len(body))
	var opened atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			_, _ = w.Write([]byte("ok\n"))
			return
		case "/_stats":
			_, _ = w.Write([]byte(`{"conns_opened":` + strconv.FormatInt(opened.Load(), 10) + "}\n"))
			return
		}
		if a := r.Header.Get("Authorization"); !strings.HasPrefix(a, "Bearer ") || len(a) < len("Bearer ")+16 {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		hd := w.Header()
		hd["Content-Type"] = []string{"application/json"}
		hd["Content-Length"] = []string{size}
		_, _ = w.Write([]byte(body))
	})
	srv := &http.Server{
		Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				opened.Add(1)
			}
		},
	}
	log.Printf("upstream listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}
