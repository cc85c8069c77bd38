package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
)

// costTarget is issue 15's: a read with the big store costs at most 1.2x
// the one with the small store (req/s of the small row / req/s of the big).
const costTarget = 1.2

// configInfo is a line of bench/run's configs file.
type configInfo struct {
	stored, cookies, size string
}

func readConfigs(path string) (map[string]configInfo, error) {
	out := map[string]configInfo{}
	if path == "" {
		return out, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) < 4 {
			continue
		}
		out[fs[0]] = configInfo{stored: fs[1], cookies: fs[2], size: fs[3]}
	}
	return out, sc.Err()
}

// wsRow is a working-set row name: <store>-<small|big>[-nocache]/<path>.
type wsRow struct {
	store, size, path string
	nocache           bool
}

func parseWS(config string) (wsRow, bool) {
	c, path, ok := strings.Cut(config, "/")
	if !ok {
		return wsRow{}, false
	}
	fs := strings.Split(c, "-")
	if len(fs) < 2 || (fs[1] != "small" && fs[1] != "big") || (len(fs) == 3 && fs[2] != "nocache") || len(fs) > 3 {
		return wsRow{}, false
	}
	return wsRow{store: fs[0], size: fs[1], path: path, nocache: len(fs) == 3}, true
}

func (w wsRow) config() string {
	c := w.store + "-" + w.size
	if w.nocache {
		c += "-nocache"
	}
	return c
}

func (w wsRow) name() string { return w.config() + "/" + w.path }

var hitSources = map[string]string{
	"redis":         "Redis GETs",
	"store":         "store Gets",
	"metrics-cache": "/metrics cache counters",
	"metrics-store": "/metrics store gets",
}

func hitCell(a *agg) string {
	if len(a.hit) == 0 {
		return "- (not observable)"
	}
	src := hitSources[a.hitSource]
	if src == "" {
		src = a.hitSource
	}
	return fmt.Sprintf("%.1f%% (%s)", 100*median(a.hit), src)
}

func scaleTable(s *samples, cfg map[string]configInfo) {
	var rows []wsRow
	for _, k := range s.order {
		if w, ok := parseWS(k.config); ok && !slices.Contains(rows, w) {
			rows = append(rows, w)
		}
	}
	// Group: store (first seen), cache on before off, read before proxy,
	// small before big.
	var stores []string
	for _, w := range rows {
		if !slices.Contains(stores, w.store) {
			stores = append(stores, w.store)
		}
	}
	slices.SortStableFunc(rows, func(a, b wsRow) int {
		if d := slices.Index(stores, a.store) - slices.Index(stores, b.store); d != 0 {
			return d
		}
		if a.nocache != b.nocache {
			if a.nocache {
				return 1
			}
			return -1
		}
		if a.path != b.path {
			return strings.Compare(b.path, a.path) // read before proxy
		}
		return strings.Compare(b.size, a.size) // small before big
	})
	fmt.Println("| row | cache | stored sessions | distinct cookies | conns | req/s | p50 / p99 ms | authbff CPU us/req | store CPU us/req | cache hit ratio | RSS MB | store size | cost vs small (req/s) | CPU/req vs small | p99 vs small | rounds | cost <= 1.2x |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|---:|---:|---:|---|")
	type verdict struct {
		name string
		cost float64
	}
	var verdicts []verdict
	for _, w := range rows {
		for _, k := range s.order {
			if k.config != w.name() {
				continue
			}
			a := s.get(k.config, k.conns)
			ci := cfg[w.config()]
			cache := "on"
			if w.nocache {
				cache = "off"
			}
			cost, cpuR, p99R, met := "1 (ref)", "1 (ref)", "1 (ref)", "-"
			if w.size == "big" {
				small := w
				small.size = "small"
				r := s.data[key{small.name(), k.conns}]
				cost, cpuR, p99R = "-", "-", "-"
				if r != nil && median(a.rps) > 0 {
					c := median(r.rps) / median(a.rps)
					cost = fmt.Sprintf("%.2fx", c)
					if len(a.cpu) > 0 && len(r.cpu) > 0 && median(r.cpu) > 0 {
						cpuR = fmt.Sprintf("%.2fx", median(a.cpu)/median(r.cpu))
					}
					if median(r.p99) > 0 {
						p99R = fmt.Sprintf("%.2fx", median(a.p99)/median(r.p99))
					}
					met = "yes"
					if c > costTarget {
						met = "**no**"
					}
					verdicts = append(verdicts, verdict{w.name(), c})
				}
			}
			fmt.Printf("| %s%s | %s | %s | %s | %d | %.0f | %.2f / %.2f | %s | %s | %s | %.0f | %s | %s | %s | %s | %d | %s |\n",
				w.name(), errNote(a, &agg{}), cache, dash(ci.stored), dash(ci.cookies), k.conns, median(a.rps),
				median(a.p50), median(a.p99), med(a.cpu, "%.1f"), med(a.aux, "%.1f"), hitCell(a), a.rss,
				dash(ci.size), cost, cpuR, p99R, a.n, met)
		}
	}
	if len(verdicts) == 0 {
		return
	}
	fmt.Println()
	var parts, bad []string
	for _, v := range verdicts {
		parts = append(parts, fmt.Sprintf("%s %.2fx", v.name, v.cost))
		if v.cost > costTarget {
			bad = append(bad, v.name)
		}
	}
	if len(bad) == 0 {
		fmt.Printf("Cost of the big store's rows relative to the small store's (req/s small / req/s big): %s: all within %.1fx.\n",
			strings.Join(parts, ", "), costTarget)
	} else {
		fmt.Printf("Cost of the big store's rows relative to the small store's (req/s small / req/s big): %s: **over %.1fx** for %s.\n",
			strings.Join(parts, ", "), costTarget, strings.Join(bad, ", "))
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// twoInstTable compares "<name>-x1/<path>" (one authbff) with
// "<name>-x2/<path>" (two, on the same store, load split between them).
func twoInstTable(s *samples) {
	fmt.Println("| row | instances | conns (total) | aggregate req/s | vs one instance | worst p50 / p99 ms | authbff CPU us/req (all instances) | Redis CPU us/req | req/s per authbff core | req/s per Redis core | cache hit ratio | rounds |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
	for _, k := range s.order {
		base, path, ok := strings.Cut(k.config, "/")
		if !ok || !(strings.HasSuffix(base, "-x1") || strings.HasSuffix(base, "-x2")) {
			continue
		}
		a := s.get(k.config, k.conns)
		inst, vs := "1", "1 (ref)"
		if strings.HasSuffix(base, "-x2") {
			inst = "2"
			one := strings.TrimSuffix(base, "-x2") + "-x1/" + path
			if r := s.data[key{one, k.conns}]; r != nil {
				vs = fmt.Sprintf("%.2fx", ratio(median(a.rps), median(r.rps)))
			} else {
				vs = "-"
			}
		}
		fmt.Printf("| %s%s | %s | %d | %.0f | %s | %.2f / %.2f | %s | %s | %s | %s | %s | %d |\n",
			k.config, errNote(a, &agg{}), inst, k.conns, median(a.rps), vs, median(a.p50), median(a.p99),
			med(a.cpu, "%.1f"), med(a.aux, "%.1f"), perCore(a.cpu), perCore(a.aux), hitCell(a), a.n)
	}
}

// perCore is how many requests one core serves at the median CPU cost per
// request (microseconds).
func perCore(us []float64) string {
	if len(us) == 0 || median(us) <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", 1e6/median(us))
}

func seedTable(seeds []seed) {
	fmt.Println("| store seeded | sessions added | seconds | sealed bytes (one session) | bytes per session | bolt file | cookie tokens written |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	for _, sd := range seeds {
		file := "-"
		switch {
		case sd.FileBytes >= 1<<30:
			file = fmt.Sprintf("%.2f GiB", float64(sd.FileBytes)/(1<<30))
		case sd.FileBytes > 0:
			file = fmt.Sprintf("%.1f MiB", float64(sd.FileBytes)/(1<<20))
		}
		fmt.Printf("| %s | %d | %.1f | %d | %d | %s | %d |\n",
			sd.Label, sd.Added, sd.Seconds, sd.SealedBytes, sd.BytesPerSession, file, sd.Tokens)
	}
}
