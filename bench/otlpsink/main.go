// Command otlpsink is the OTLP/HTTP receiver bench/run's otel part exports
// spans to: every POST is read in full and answered 200 with an empty
// protobuf ExportTraceServiceResponse (all accepted), so the exporter does
// its real work (batching, protobuf, HTTP) and nothing is kept. GET /_stats
// answers {"requests": n, "bytes": n}: the export requests received and
// their body bytes (the part checks that spans did arrive).
//
//	otlpsink -addr 127.0.0.1:4318
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4318", "listen address")
	flag.Parse()
	var requests, bytes atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			_, _ = w.Write([]byte("ok\n"))
			return
		case "/_stats":
			_, _ = w.Write([]byte(`{"requests":` + strconv.FormatInt(requests.Load(), 10) +
				`,"bytes":` + strconv.FormatInt(bytes.Load(), 10) + "}\n"))
			return
		}
		n, _ := io.Copy(io.Discard, r.Body)
		requests.Add(1)
		bytes.Add(n)
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	})
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
