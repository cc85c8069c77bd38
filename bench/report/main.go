// Command report turns bench/run's raw wrk samples into the markdown tables
// of bench/RESULTS.md.
//
//	report -samples out/wrk.tsv -scale bolt-nocache,bolt-scale,... [-table main]
//	    per configuration and connection count (scale configs left out), the
//	    medians over the rounds of authbff's and the same-run baseline's
//	    requests/s, p50 and p99, their ratios, the largest RSS seen, and
//	    whether the targets are met.
//	report -samples out/wrk.tsv -seeds out/seed.jsonl -scale ... -table scale
//	    the scale configs (cache off): stored sessions, medians, the ratio to
//	    the 1,000-session row of the same store ("<store>-nocache") and the
//	    bytes per session bench/seed measured.
//	report -seeds out/seed.jsonl -scale ... -table seeds
//	    what bench/seed added to each store.
//
// Sample lines (tab-separated): config conns round rps p50_ms p99_ms rss_kb errors.
// Configs named "baseline*" are the baseline; "*signed-out" authbff configs
// pair with "baseline-no-cookie", the scale configs with "baseline-scale"
// (the baseline runs alternating with them), every other one with "baseline".
// Seed lines are bench/seed's JSON output, labelled with the config name.
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

type agg struct {
	rps, p50, p99 []float64
	rss           float64
	errors        int
	n             int
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

// target returns the requests/s ratio and p99 ratio the issue asks of config
// (0 means no target).
func target(config string) (minRatio, maxP99 float64) {
	switch config {
	case "memory", "bolt":
		return 0.8, 2
	case "redis":
		return 0.5, 0
	}
	return 0, 0
}

// seed is one line of bench/seed's output.
type seed struct {
	Label           string  `json:"label"`
	Added           int     `json:"added"`
	Seconds         float64 `json:"seconds"`
	SealedBytes     int     `json:"sealed_bytes"`
	BytesPerSession int     `json:"bytes_per_session"`
	FileBytes       int64   `json:"file_bytes"`
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "report:", err)
	os.Exit(1)
}

func main() {
	path := flag.String("samples", "out/wrk.tsv", "samples file")
	seedsPath := flag.String("seeds", "", "bench/seed output (JSON lines)")
	scaleList := flag.String("scale", "", "comma-separated scale configs (cache off)")
	table := flag.String("table", "main", "main, scale or seeds")
	flag.Parse()
	var scale []string
	if *scaleList != "" {
		scale = strings.Split(*scaleList, ",")
	}
	seeds := map[string]seed{}
	var seedOrder []string
	if *seedsPath != "" {
		b, err := os.ReadFile(*seedsPath)
		if err != nil {
			fail(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line == "" {
				continue
			}
			var sd seed
			if err := json.Unmarshal([]byte(line), &sd); err != nil {
				fail(fmt.Errorf("%s: %w", *seedsPath, err))
			}
			seeds[sd.Label] = sd
			seedOrder = append(seedOrder, sd.Label)
		}
	}
	if *table == "seeds" {
		seedTable(seeds, seedOrder, scale)
		return
	}
	f, err := os.Open(*path)
	if err != nil {
		fail(err)
	}
	defer f.Close()
	data := map[key]*agg{}
	var order []key
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) < 8 {
			continue
		}
		conns, _ := strconv.Atoi(fs[1])
		k := key{fs[0], conns}
		a := data[k]
		if a == nil {
			a = &agg{}
			data[k] = a
			order = append(order, k)
		}
		num := func(i int) float64 { v, _ := strconv.ParseFloat(fs[i], 64); return v }
		a.rps = append(a.rps, num(3))
		a.p50 = append(a.p50, num(4))
		a.p99 = append(a.p99, num(5))
		a.rss = max(a.rss, num(6)/1024)
		e, _ := strconv.Atoi(fs[7])
		a.errors += e
		a.n++
	}
	switch *table {
	case "main":
		mainTable(data, order, scale)
	case "scale":
		scaleTable(data, order, scale, seeds)
	default:
		fail(fmt.Errorf("unknown -table %q", *table))
	}
}

func mainTable(data map[key]*agg, order []key, scale []string) {
	fmt.Println("| config | conns | authbff req/s | baseline req/s | ratio | authbff p50 / p99 ms | baseline p50 / p99 ms | p99 ratio | authbff RSS MB | baseline RSS MB | rounds | target | met |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
	allMet := true
	for _, k := range order {
		if strings.HasPrefix(k.config, "baseline") || slices.Contains(scale, k.config) {
			continue
		}
		a := data[k]
		bk := key{"baseline", k.conns}
		if strings.HasSuffix(k.config, "signed-out") {
			bk.config = "baseline-no-cookie"
		}
		b := data[bk]
		if b == nil {
			b = &agg{}
		}
		ar, br := median(a.rps), median(b.rps)
		ratio, p99r := 0.0, 0.0
		if br > 0 {
			ratio = ar / br
		}
		if bp := median(b.p99); bp > 0 {
			p99r = median(a.p99) / bp
		}
		minR, maxP := target(k.config)
		tgt, met := "-", "-"
		if minR > 0 {
			tgt = fmt.Sprintf(">= %.1fx", minR)
			ok := ratio >= minR
			if maxP > 0 && k.conns >= 256 {
				tgt += fmt.Sprintf(", p99 <= %.0fx", maxP)
				ok = ok && p99r <= maxP
			}
			met = "yes"
			if !ok {
				met, allMet = "**no**", false
			}
		}
		errs := ""
		if a.errors+b.errors > 0 {
			errs = fmt.Sprintf(" (%d errors)", a.errors+b.errors)
		}
		fmt.Printf("| %s%s | %d | %.0f | %.0f | %.2f | %.2f / %.2f | %.2f / %.2f | %.2f | %.0f | %.0f | %d | %s | %s |\n",
			k.config, errs, k.conns, ar, br, ratio, median(a.p50), median(a.p99), median(b.p50), median(b.p99), p99r,
			a.rss, b.rss, a.n, tgt, met)
	}
	fmt.Println()
	if allMet {
		fmt.Println("All targets met.")
	} else {
		fmt.Println("Some targets are **not** met (see the \"met\" column).")
	}
}

// store is the store a config name belongs to ("bolt-scale" -> "bolt").
func store(config string) string {
	s, _, _ := strings.Cut(config, "-")
	return s
}

func scaleTable(data map[key]*agg, order []key, scale []string, seeds map[string]seed) {
	fmt.Println("| config | cache | stored sessions | req/s | baseline req/s | ratio to baseline | p50 / p99 ms | req/s vs 1k row | p99 vs 1k row | bytes per session | rounds | req/s >= 0.9x the 1k row |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	type verdict struct {
		config string
		ratio  float64
		ok     bool
	}
	var verdicts []verdict
	for _, k := range order {
		if !slices.Contains(scale, k.config) {
			continue
		}
		a := data[k]
		b := data[key{"baseline-scale", k.conns}]
		if b == nil {
			b = &agg{}
		}
		ar, br := median(a.rps), median(b.rps)
		ratio := 0.0
		if br > 0 {
			ratio = ar / br
		}
		stored, bps := "-", "-"
		if sd, ok := seeds[k.config]; ok {
			// bench/run signs in once more on every store: the session read.
			stored = fmt.Sprintf("%d", sd.Added+1)
			bps = fmt.Sprintf("%d", sd.BytesPerSession)
		}
		ref := store(k.config) + "-nocache"
		vsR, vsP, met := "-", "-", "-"
		if r := data[key{ref, k.conns}]; r != nil && ref != k.config {
			rr := ar / median(r.rps)
			vsR = fmt.Sprintf("%.2fx", rr)
			if rp := median(r.p99); rp > 0 {
				vsP = fmt.Sprintf("%.2fx", median(a.p99)/rp)
			}
			met = "yes"
			if rr < 0.9 {
				met = "**no**"
			}
			verdicts = append(verdicts, verdict{k.config, rr, rr >= 0.9})
		} else if ref == k.config {
			vsR, vsP = "1 (ref)", "1 (ref)"
		}
		errs := ""
		if a.errors+b.errors > 0 {
			errs = fmt.Sprintf(" (%d errors)", a.errors+b.errors)
		}
		fmt.Printf("| %s%s | off | %s | %.0f | %.0f | %.2f | %.2f / %.2f | %s | %s | %s | %d | %s |\n",
			k.config, errs, stored, ar, br, ratio, median(a.p50), median(a.p99), vsR, vsP, bps, a.n, met)
	}
	if len(verdicts) > 0 {
		fmt.Println()
		var parts []string
		all := true
		for _, v := range verdicts {
			parts = append(parts, fmt.Sprintf("%s %.2fx", v.config, v.ratio))
			all = all && v.ok
		}
		if all {
			fmt.Printf("Requests/s with the big store vs 1,000 sessions: %s: the read cost does not grow with the number of sessions (within the 10%% run-to-run tolerance).\n", strings.Join(parts, ", "))
		} else {
			fmt.Printf("Requests/s with the big store vs 1,000 sessions: %s: **more than 10%% slower** for at least one store.\n", strings.Join(parts, ", "))
		}
	}
}

func seedTable(seeds map[string]seed, order []string, scale []string) {
	fmt.Println("| config | cache | stored sessions | records seeded | seconds | sealed bytes (copied from a real session) | bytes per session | bolt file |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|")
	for _, l := range order {
		sd := seeds[l]
		cache := "on"
		if slices.Contains(scale, l) {
			cache = "off"
		}
		file := "-"
		switch {
		case sd.FileBytes >= 1<<30:
			file = fmt.Sprintf("%.2f GiB", float64(sd.FileBytes)/(1<<30))
		case sd.FileBytes > 0:
			file = fmt.Sprintf("%.1f MiB", float64(sd.FileBytes)/(1<<20))
		}
		fmt.Printf("| %s | %s | %d | %d | %.1f | %d | %d | %s |\n",
			l, cache, sd.Added+1, sd.Added, sd.Seconds, sd.SealedBytes, sd.BytesPerSession, file)
	}
}
