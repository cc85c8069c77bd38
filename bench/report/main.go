// Command report turns bench/run's raw wrk samples into the markdown table
// of bench/RESULTS.md: per configuration and connection count, the medians
// over the rounds of authbff's and the same-run baseline's requests/s, p50
// and p99, their ratios, the largest RSS seen, and whether the issue's
// targets are met.
//
//	report -samples out/wrk.tsv
//
// Sample lines (tab-separated): config conns round rps p50_ms p99_ms rss_kb errors.
// Configs named "baseline*" are the baseline; "*signed-out" authbff configs
// pair with "baseline-no-cookie", every other one with "baseline".
package main

import (
	"bufio"
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

func main() {
	path := flag.String("samples", "out/wrk.tsv", "samples file")
	flag.Parse()
	f, err := os.Open(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
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
	fmt.Println("| config | conns | authbff req/s | baseline req/s | ratio | authbff p50 / p99 ms | baseline p50 / p99 ms | p99 ratio | authbff RSS MB | baseline RSS MB | rounds | target | met |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
	allMet := true
	for _, k := range order {
		if strings.HasPrefix(k.config, "baseline") {
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
