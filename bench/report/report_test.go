package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseTracesCountsEachSampleInItsFirstPart(t *testing.T) {
	traces := `File: libserve
Type: cpu
-----------+-------------------------------------------------------
      30ms   crypto/internal/fips140/bigmod.(*Nat).montgomeryMul
             crypto/rsa.VerifyPKCS1v15
             github.com/authbff/authbff/internal/oidc.(*Provider).verifySignature
             net/http.(*conn).serve
-----------+-------------------------------------------------------
      20ms   runtime.mallocgc
             go.etcd.io/bbolt.(*Tx).Commit
             net/http.(*conn).serve
-----------+-------------------------------------------------------
       5ms   log/slog.(*Logger).Warn
             go.etcd.io/bbolt.(*DB).Update
-----------+-------------------------------------------------------
      10ms   syscall.Syscall6
             net/http.(*conn).serve
-----------+-------------------------------------------------------
      10ms   runtime.futex
             runtime.schedule
-----------+-------------------------------------------------------
`
	path := filepath.Join(t.TempDir(), "traces.txt")
	if err := os.WriteFile(path, []byte(traces), 0o600); err != nil {
		t.Fatal(err)
	}
	parts, total, err := parseTraces(path)
	if err != nil {
		t.Fatal(err)
	}
	if total != 75*time.Millisecond {
		t.Errorf("total = %v, want 75ms", total)
	}
	want := map[string]time.Duration{
		profileParts[0].name: 30 * time.Millisecond, // RSA, though under the HTTP server too
		profileParts[4].name: 25 * time.Millisecond, // the store (also when it logs)
		profileParts[8].name: 10 * time.Millisecond, // the HTTP server
		otherPart:            10 * time.Millisecond,
	}
	for name, d := range want {
		if parts[name] != d {
			t.Errorf("%s = %v, want %v", name, parts[name], d)
		}
	}
	if len(parts) != len(want) {
		t.Errorf("parts = %v, want only %v", parts, want)
	}
}

func TestParseWS(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want wsRow
		ok   bool
	}{
		{"bolt-big/read", wsRow{store: "bolt", size: "big", path: "read"}, true},
		{"memory-small-nocache/read", wsRow{store: "memory", size: "small", path: "read", nocache: true}, true},
		{"redis-small/proxy", wsRow{store: "redis", size: "small", path: "proxy"}, true},
		{"redis-big-x2/read", wsRow{}, false},
		{"memory", wsRow{}, false},
		{"proxy-memory", wsRow{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := parseWS(tc.in)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("parseWS(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
			if ok && got.name() != tc.in {
				t.Errorf("name() = %q, want %q", got.name(), tc.in)
			}
		})
	}
}

func TestReadSamplesTakesMediansAndSkipsUnknowns(t *testing.T) {
	lines := "bolt-big/read\t32\t1\t1000\t1.0\t9.0\t2048\t0\t5000\t20.0\t-\t0.5\tredis\t-\n" +
		"bolt-big/read\t32\t2\t3000\t3.0\t7.0\t4096\t2\t15000\t40.0\t-\t-\t-\t-\n" +
		"bolt-big/read\t32\t3\t2000\t2.0\t8.0\t1024\t0\t10000\t30.0\t-\t0.7\tredis\t-\n" +
		"old\t32\t1\t10\t1\t1\t0\t0\n"
	path := filepath.Join(t.TempDir(), "wrk.tsv")
	if err := os.WriteFile(path, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := readSamples(path)
	if err != nil {
		t.Fatal(err)
	}
	a := s.get("bolt-big/read", 32)
	if median(a.rps) != 2000 || median(a.cpu) != 30 || a.rss != 4 || a.errors != 2 || a.n != 3 {
		t.Errorf("rps %v cpu %v rss %v errors %d n %d", median(a.rps), median(a.cpu), a.rss, a.errors, a.n)
	}
	if len(a.aux) != 0 || len(a.hit) != 2 || median(a.hit) != 0.6 || a.hitSource != "redis" {
		t.Errorf("aux %v hit %v source %q", a.aux, a.hit, a.hitSource)
	}
	if old := s.get("old", 32); old.n != 1 || len(old.cpu) != 0 {
		t.Errorf("an 8-column line: n %d cpu %v", old.n, old.cpu)
	}
}
