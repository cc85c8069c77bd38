package refresh

import (
	"testing"
	"time"
)

func TestBackoffDoublesToCap(t *testing.T) {
	b := newBackoff(5*time.Second, 5*time.Minute)
	now := time.Now()
	want := []time.Duration{5, 10, 20, 40, 80, 160, 300, 300}
	for i, w := range want {
		d := b.fail("s", now)
		w *= time.Second
		if d < w*8/10 || d > w*12/10 {
			t.Fatalf("attempt %d: delay %v, want %v ±20%%", i+1, d, w)
		}
		if !b.waiting("s", now.Add(d-time.Millisecond)) || b.waiting("s", now.Add(d)) {
			t.Fatalf("attempt %d: waiting() wrong around %v", i+1, d)
		}
	}
	b.clear("s")
	if b.waiting("s", now) {
		t.Fatal("still waiting after clear")
	}
	b.note("s", now)
	b.note("s", now) // does not escalate
	if d := b.fail("s", now); d < 8*time.Second {
		t.Fatalf("delay after note+fail = %v, want ~10s", d)
	}
}

func TestBackoffBounded(t *testing.T) {
	b := newBackoff(time.Second, time.Second)
	now := time.Now()
	for i := range maxBackoffEntries {
		b.fail(string(rune('a'+i%26))+time.Duration(i).String(), now)
	}
	b.fail("late", now.Add(time.Hour))
	if n := len(b.m); n > 1 {
		t.Fatalf("%d entries after pruning, want 1", n)
	}
}
