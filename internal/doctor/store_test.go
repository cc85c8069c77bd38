package doctor_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/doctor"
	"github.com/authbff/authbff/internal/redistest"
)

func redisStoreReport(t *testing.T, spec string) (string, bool) {
	t.Helper()
	r := &doctor.Report{}
	doctor.CheckStore(context.Background(), r, spec)
	var b strings.Builder
	r.WriteText(&b)
	return b.String(), r.OK()
}

// An evicting maxmemory-policy drops sessions under memory pressure:
// doctor fails on it, naming noeviction, against a real redis-server
// started with allkeys-lru.
func TestCheckStoreEvictingRedis(t *testing.T) {
	srv := redistest.StartWithOptions(t, redistest.Options{Args: []string{"--maxmemory-policy", "allkeys-lru"}})
	out, ok := redisStoreReport(t, srv.URL)
	if ok {
		t.Fatalf("doctor passed a Redis with allkeys-lru:\n%s", out)
	}
	if !strings.Contains(out, "ok   [store] session store "+srv.URL+" answers") {
		t.Errorf("no ping line:\n%s", out)
	}
	line := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "FAIL") {
			line = l
		}
	}
	for _, want := range []string{"maxmemory-policy is allkeys-lru", "fix: set maxmemory-policy noeviction"} {
		if !strings.Contains(line, want) {
			t.Errorf("FAIL line lacks %q: %q", want, line)
		}
	}
}

func TestCheckStoreNoEvictionRedis(t *testing.T) {
	srv := redistest.Start(t) // redis-server's default policy is noeviction
	out, ok := redisStoreReport(t, srv.URL)
	if !ok || !strings.Contains(out, "maxmemory-policy is noeviction") {
		t.Fatalf("doctor on a noeviction Redis (ok %v):\n%s", ok, out)
	}
}

func TestCheckStoreDeadRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	out, ok := redisStoreReport(t, "redis://:hunter2@127.0.0.1:"+strconv.Itoa(port)+"/0")
	if ok || !strings.Contains(out, "refused the connection") || !strings.Contains(out, "fix: check SESSION_STORE") {
		t.Fatalf("doctor on a dead Redis (ok %v):\n%s", ok, out)
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("the password is in the output:\n%s", out)
	}
}
