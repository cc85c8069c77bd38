// Package leakcheck finds goroutines of authbff that a test left running:
// take a Snapshot before starting what the test closes, then Check after
// closing it.
package leakcheck

import (
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// module is what a stack frame of authbff's code contains.
const module = "github.com/authbff/authbff/"

// Snapshot is the set of goroutines running at one moment, by id.
type Snapshot map[string]bool

// Take returns the goroutines running now.
func Take() Snapshot {
	s := Snapshot{}
	for _, g := range dump() {
		s[id(g)] = true
	}
	return s
}

// Check fails t unless every goroutine started since before (and not the
// caller's) whose stack runs authbff code has ended within settle, naming
// the stacks of those left. With only, it looks only at the goroutines
// whose stack contains one of those strings (e.g. a function name).
func Check(t testing.TB, before Snapshot, settle time.Duration, only ...string) {
	t.Helper()
	deadline := time.Now().Add(settle)
	for {
		left := Left(before, only...)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutine(s) of authbff still running %s after Close:\n\n%s",
				len(left), settle, strings.Join(left, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Left returns the stacks of the goroutines not in before whose stack runs
// authbff code, but the caller's; with only, just those whose stack also
// contains one of those strings.
func Left(before Snapshot, only ...string) []string {
	var left []string
	for i, g := range dump() {
		if i == 0 || before[id(g)] || !strings.Contains(g, module) {
			continue // the caller's own goroutine comes first
		}
		if len(only) > 0 && !slices.ContainsFunc(only, func(s string) bool { return strings.Contains(g, s) }) {
			continue
		}
		left = append(left, g)
	}
	return left
}

// dump returns the stack of every goroutine, the caller's first.
func dump() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(strings.TrimSpace(string(buf[:n])), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// id returns a goroutine's id from its stack's first line,
// "goroutine 12 [running]:".
func id(stack string) string {
	f := strings.Fields(stack)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// RedisWatch, given to Check or Left, picks the goroutines of a Redis
// store's watch (its subscriptions, presence renewals and acknowledgements)
// from the store's own (the subscription to the acknowledgements of its
// Deletes, which runs until the store is closed).
var RedisWatch = []string{
	"created by github.com/authbff/authbff/internal/session/redisstore.(*Store).WatchLeased in ",
	"created by github.com/authbff/authbff/internal/session/redisstore.(*Store).goWatch in ",
	"redisstore.(*presence).run", "redisstore.(*Store).sendAck",
}
