// Command report turns bench/run's raw measurements into the markdown
// tables of bench/RESULTS.md.
//
//	report -samples wrk.tsv -table main
//	    GET /api/auth/session (one cookie, cache on): per configuration and
//	    connection count the medians over the rounds of authbff's and the
//	    same-run baseline's requests/s, p50, p99, CPU per request, their
//	    ratios, the largest RSS seen, and whether the targets are met.
//	report -samples wrk.tsv -table proxy
//	    GET /api/proxy/bench/items: authbff (proxy-memory) against the bare
//	    reverse proxy (proxybase), and the upstream alone.
//	report -samples wrk.tsv -configs configs.tsv -table scale
//	    the rotating working set: per store, cache mode and path the 1k and
//	    1M rows, hit ratio, CPU, RSS, store size, and the 1M row's cost
//	    relative to the 1k row.
//	report -samples wrk.tsv -table twoinst
//	    one authbff against two on one Redis.
//	report -samples wrk.tsv -table otel
//	    the session read with tracing off, exporting, and unsampled.
//	report -seeds seed.jsonl -table seeds
//	    what bench/seed added to each store.
//	report -traces traces.txt -signins N -table profile
//	    a CPU profile of sign-ins (go tool pprof -traces output), split into
//	    parts (RSA verify, sealing, store, HTTP, ...).
//
// Sample lines (tab-separated): config conns round rps p50_ms p99_ms rss_kb
// errors [requests cpu_us aux_cpu_us hit_ratio hit_source upstream_conns_per_1k];
// "-" is unknown.
// Config names: "baseline*" are the session-read baseline ("*signed-out"
// rows pair with "baseline-no-cookie", the others with "baseline");
// "proxybase", "proxy-<store>" and "upstream" the proxy rows;
// "<store>-<1k|1m>[-nocache]/<read|proxy>" the working-set rows;
// "<name>-x1/<path>" and "<name>-x2/<path>" the two-instance rows;
// "otel-off", "otel-on" and "otel-unsampled" the tracing rows.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

type key struct {
	config string
	conns  int
}

// agg collects one configuration's samples at one connection count.
type agg struct {
	rps, p50, p99, cpu, aux, hit []float64
	opened                       []float64 // upstream connections opened per 1,000 requests
	rss                          float64
	errors                       int
	n                            int
	hitSource                    string
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// med formats the median of v with format, "-" when v is empty.
func med(v []float64, format string) string {
	if len(v) == 0 {
		return "-"
	}
	return fmt.Sprintf(format, median(v))
}

type samples struct {
	data  map[key]*agg
	order []key
}

func (s *samples) get(config string, conns int) *agg {
	if a := s.data[key{config, conns}]; a != nil {
		return a
	}
	return &agg{}
}

func readSamples(path string) (*samples, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := &samples{data: map[key]*agg{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) < 8 {
			continue
		}
		conns, _ := strconv.Atoi(fs[1])
		k := key{fs[0], conns}
		a := s.data[k]
		if a == nil {
			a = &agg{}
			s.data[k] = a
			s.order = append(s.order, k)
		}
		num := func(i int) (float64, bool) {
			if i >= len(fs) {
				return 0, false
			}
			v, err := strconv.ParseFloat(fs[i], 64)
			return v, err == nil
		}
		add := func(dst *[]float64, i int) {
			if v, ok := num(i); ok {
				*dst = append(*dst, v)
			}
		}
		add(&a.rps, 3)
		add(&a.p50, 4)
		add(&a.p99, 5)
		if v, ok := num(6); ok {
			a.rss = max(a.rss, v/1024)
		}
		e, _ := strconv.Atoi(fs[7])
		a.errors += e
		add(&a.cpu, 9)
		add(&a.aux, 10)
		add(&a.hit, 11)
		add(&a.opened, 13)
		if len(fs) > 12 && fs[12] != "-" && fs[12] != "" {
			a.hitSource = fs[12]
		}
		a.n++
	}
	return s, sc.Err()
}

// seed is one line of bench/seed's output.
type seed struct {
	Label           string  `json:"label"`
	Added           int     `json:"added"`
	Seconds         float64 `json:"seconds"`
	SealedBytes     int     `json:"sealed_bytes"`
	BytesPerSession int     `json:"bytes_per_session"`
	FileBytes       int64   `json:"file_bytes"`
	Tokens          int     `json:"tokens"`
}

func readSeeds(path string) ([]seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []seed
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var sd seed
		if err := json.Unmarshal([]byte(line), &sd); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, sd)
	}
	return out, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "report:", err)
	os.Exit(1)
}

func main() {
	path := flag.String("samples", "out/wrk.tsv", "samples file")
	seedsPath := flag.String("seeds", "", "bench/seed output (JSON lines)")
	configsPath := flag.String("configs", "", "configs file: config, stored sessions, distinct cookies, store size (tab-separated)")
	traces := flag.String("traces", "", "go tool pprof -traces output")
	signins := flag.Float64("signins", 0, "sign-ins completed during the profile")
	cpuMS := flag.Float64("cpu-ms", 0, "authbff CPU ms per sign-in measured from /proc during the profile")
	table := flag.String("table", "main", "main, proxy, scale, twoinst, otel, seeds or profile")
	flag.Parse()
	switch *table {
	case "seeds":
		sd, err := readSeeds(*seedsPath)
		if err != nil {
			fail(err)
		}
		seedTable(sd)
		return
	case "profile":
		if err := profileTable(*traces, *signins, *cpuMS); err != nil {
			fail(err)
		}
		return
	}
	s, err := readSamples(*path)
	if err != nil {
		fail(err)
	}
	switch *table {
	case "main":
		mainTable(s)
	case "proxy":
		proxyTable(s)
	case "scale":
		cfg, err := readConfigs(*configsPath)
		if err != nil {
			fail(err)
		}
		scaleTable(s, cfg)
	case "twoinst":
		twoInstTable(s)
	case "otel":
		otelTable(s)
	default:
		fail(fmt.Errorf("unknown -table %q", *table))
	}
}
