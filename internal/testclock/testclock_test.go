package testclock

import (
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := New(t0)
	c.Add(time.Minute)
	c.Advance(time.Second)
	if got := c.Now(); !got.Equal(t0.Add(61 * time.Second)) {
		t.Fatalf("Now = %v", got)
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Fatal("Set")
	}
}
