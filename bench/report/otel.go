package main

import (
	"fmt"
	"strings"
)

// otelTable is the otel part: the session read with tracing off (the
// reference), exporting every span (otel-on) and with the sampler
// always_off (otel-unsampled), as ratios against off in the same run.
func otelTable(s *samples) {
	fmt.Println("| config | conns | req/s | off req/s | ratio | p50 / p99 ms | off p50 / p99 ms | p99 ratio | CPU us/req | off CPU us/req | CPU ratio | RSS MB | rounds |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, k := range s.order {
		if !strings.HasPrefix(k.config, "otel-") {
			continue
		}
		a, b := s.get(k.config, k.conns), s.get("otel-off", k.conns)
		name := k.config
		if name == "otel-off" {
			name = "otel-off (reference)"
		}
		fmt.Printf("| %s%s | %d | %.0f | %.0f | %.2f | %.2f / %.2f | %.2f / %.2f | %.2f | %s | %s | %.2f | %.0f | %d |\n",
			name, errNote(a, &agg{}), k.conns, median(a.rps), median(b.rps), ratio(median(a.rps), median(b.rps)),
			median(a.p50), median(a.p99), median(b.p50), median(b.p99), ratio(median(a.p99), median(b.p99)),
			med(a.cpu, "%.1f"), med(b.cpu, "%.1f"), ratio(median(a.cpu), median(b.cpu)), a.rss, a.n)
	}
}
