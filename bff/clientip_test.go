package bff

import (
	"net/http/httptest"
	"testing"
)

func TestClientIP(t *testing.T) {
	for _, tc := range []struct {
		trusted   []string
		peer, xff string
		want      string
	}{
		{nil, "127.0.0.1:5555", "203.0.113.7", "127.0.0.1"},
		{[]string{"127.0.0.1/32"}, "127.0.0.1:5555", "203.0.113.7", "203.0.113.7"},
		{[]string{"127.0.0.1"}, "127.0.0.1:5555", "198.51.100.1, 203.0.113.7", "203.0.113.7"},
		{[]string{"127.0.0.1", "10.0.0.0/8"}, "127.0.0.1:5555", "198.51.100.1, 10.1.2.3", "198.51.100.1"},
		{[]string{"10.0.0.0/8"}, "127.0.0.1:5555", "203.0.113.7", "127.0.0.1"},
		{[]string{"127.0.0.1"}, "127.0.0.1:5555", "garbage", "127.0.0.1"},
	} {
		tp := trustedProxies(mustPrefixes(t, tc.trusted))
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		r.Header.Set("X-Forwarded-For", tc.xff)
		if got := tp.clientIP(r); got != tc.want {
			t.Errorf("trusted %v, peer %s, XFF %q: %s, want %s", tc.trusted, tc.peer, tc.xff, got, tc.want)
		}
	}
}
