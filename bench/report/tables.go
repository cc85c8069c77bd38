package main

import (
	"fmt"
	"strings"
)

// readTarget returns the requests/s ratio and p99 ratio asked of a
// session-read config (0: no target): issue 6 (Redis >= 0.5x, p99 at 256
// connections <= 2x), issue 15 (memory and bolt still >= 0.85x) and issue
// 26 (PostgreSQL, cache on, >= 0.8x).
func readTarget(config string) (minRatio, maxP99 float64) {
	switch config {
	case "memory", "bolt":
		return 0.85, 2
	case "redis":
		return 0.5, 0
	case "postgres":
		return 0.8, 0
	}
	return 0, 0
}

// proxyTarget is issue 15's: authbff's proxy >= 0.90x the bare reverse proxy.
const proxyTarget = 0.90

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func errNote(a, b *agg) string {
	if a.errors+b.errors > 0 {
		return fmt.Sprintf(" (%d errors)", a.errors+b.errors)
	}
	return ""
}

// isRead reports whether config is a cache-on session-read row of the main
// table.
func isRead(config string) bool {
	return !strings.HasPrefix(config, "baseline") && !strings.HasPrefix(config, "proxy") &&
		!strings.HasPrefix(config, "otel-") && config != "upstream" && !strings.Contains(config, "/")
}

func mainTable(s *samples) {
	fmt.Println("| config | conns | authbff req/s | baseline req/s | ratio | authbff p50 / p99 ms | baseline p50 / p99 ms | p99 ratio | authbff CPU us/req | baseline CPU us/req | authbff RSS MB | baseline RSS MB | rounds | target | met |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
	allMet, any := true, false
	for _, k := range s.order {
		if !isRead(k.config) {
			continue
		}
		any = true
		a := s.get(k.config, k.conns)
		bc := "baseline"
		if strings.HasSuffix(k.config, "signed-out") {
			bc = "baseline-no-cookie"
		}
		b := s.get(bc, k.conns)
		r := ratio(median(a.rps), median(b.rps))
		p99r := ratio(median(a.p99), median(b.p99))
		minR, maxP := readTarget(k.config)
		tgt, met := "-", "-"
		if minR > 0 {
			tgt = fmt.Sprintf(">= %.2gx", minR)
			ok := r >= minR
			if maxP > 0 && k.conns >= 256 {
				tgt += fmt.Sprintf(", p99 <= %.0fx", maxP)
				ok = ok && p99r <= maxP
			}
			met = "yes"
			if !ok {
				met, allMet = "**no**", false
			}
		}
		fmt.Printf("| %s%s | %d | %.0f | %.0f | %.2f | %.2f / %.2f | %.2f / %.2f | %.2f | %s | %s | %.0f | %.0f | %d | %s | %s |\n",
			k.config, errNote(a, b), k.conns, median(a.rps), median(b.rps), r, median(a.p50), median(a.p99),
			median(b.p50), median(b.p99), p99r, med(a.cpu, "%.1f"), med(b.cpu, "%.1f"), a.rss, b.rss, a.n, tgt, met)
	}
	if !any {
		return
	}
	fmt.Println()
	if allMet {
		fmt.Println("All session-read targets met.")
	} else {
		fmt.Println("Some session-read targets are **not** met (see the \"met\" column).")
	}
}

func proxyTable(s *samples) {
	fmt.Println("| config | conns | req/s | proxybase req/s | ratio | p50 / p99 ms | proxybase p50 / p99 ms | p99 ratio | CPU us/req | proxybase CPU us/req | upstream CPU us/req | upstream conns opened / 1k req | RSS MB | rounds | target | met |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
	allMet, any := true, false
	var conns []int
	for _, k := range s.order {
		if k.config == "proxybase" {
			conns = append(conns, k.conns)
		}
	}
	for _, n := range conns {
		b := s.get("proxybase", n)
		for _, k := range s.order {
			if k.conns != n || !(strings.HasPrefix(k.config, "proxy-") || k.config == "upstream" || k.config == "proxybase") {
				continue
			}
			any = true
			a := s.get(k.config, n)
			r := ratio(median(a.rps), median(b.rps))
			tgt, met := "-", "-"
			if strings.HasPrefix(k.config, "proxy-") {
				tgt, met = fmt.Sprintf(">= %.2fx", proxyTarget), "yes"
				if r < proxyTarget {
					met, allMet = "**no**", false
				}
			}
			name := k.config
			switch k.config {
			case "upstream":
				name = "upstream (direct, no proxy)"
			case "proxybase":
				name = "proxybase (reference)"
			}
			fmt.Printf("| %s%s | %d | %.0f | %.0f | %.2f | %.2f / %.2f | %.2f / %.2f | %.2f | %s | %s | %s | %s | %.0f | %d | %s | %s |\n",
				name, errNote(a, &agg{}), n, median(a.rps), median(b.rps), r, median(a.p50), median(a.p99),
				median(b.p50), median(b.p99), ratio(median(a.p99), median(b.p99)), med(a.cpu, "%.1f"),
				med(b.cpu, "%.1f"), med(a.aux, "%.1f"), med(a.opened, "%.1f"), a.rss, a.n, tgt, met)
		}
	}
	if !any {
		return
	}
	fmt.Println()
	if allMet {
		fmt.Printf("Proxy target met: authbff's /api/proxy >= %.2fx the bare reverse proxy at every connection count.\n", proxyTarget)
	} else {
		fmt.Printf("Proxy target **not** met: authbff's /api/proxy is below %.2fx the bare reverse proxy at some connection count.\n", proxyTarget)
	}
}
