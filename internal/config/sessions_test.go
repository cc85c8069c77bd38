package config

import (
	"testing"
	"time"
)

func TestSessionLifecycleLimits(t *testing.T) {
	tests := []struct {
		name          string
		env           []string
		absolute      time.Duration
		perUser       int
		problemOn     string
		problemSubstr string
	}{
		{"defaults", nil, 30 * 24 * time.Hour, 50, "", ""},
		{"set", []string{"AUTH_SESSION_ABSOLUTE_MAX_AGE=168h", "AUTH_SESSION_MAX_PER_USER=5"}, 7 * 24 * time.Hour, 5, "", ""},
		{"seconds", []string{"AUTH_SESSION_ABSOLUTE_MAX_AGE=86400"}, 24 * time.Hour, 50, "", ""},
		{"absolute zero", []string{"AUTH_SESSION_ABSOLUTE_MAX_AGE=0"}, 0, 0, "AUTH_SESSION_ABSOLUTE_MAX_AGE", "zero"},
		{"absolute negative", []string{"AUTH_SESSION_ABSOLUTE_MAX_AGE=-1h"}, 0, 0, "AUTH_SESSION_ABSOLUTE_MAX_AGE", "negative"},
		{"per user zero", []string{"AUTH_SESSION_MAX_PER_USER=0"}, 0, 0, "AUTH_SESSION_MAX_PER_USER", "positive whole number"},
		{"per user garbage", []string{"AUTH_SESSION_MAX_PER_USER=lots"}, 0, 0, "AUTH_SESSION_MAX_PER_USER", "positive whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ps := load(t, "", tt.env...)
			if tt.problemOn != "" {
				wantProblem(t, ps, tt.problemOn, tt.problemSubstr)
				return
			}
			if ps != nil {
				t.Fatalf("unexpected problems:\n%s", ps.Error())
			}
			if c.AbsoluteMaxAge != tt.absolute || c.MaxSessionsPerUser != tt.perUser {
				t.Errorf("AbsoluteMaxAge %v, MaxSessionsPerUser %d; want %v, %d", c.AbsoluteMaxAge, c.MaxSessionsPerUser, tt.absolute, tt.perUser)
			}
		})
	}
}
