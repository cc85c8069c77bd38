package metrics_test

import (
	"testing"
	"time"

	"github.com/authbff/authbff/internal/metrics"
)

// TestUpstreamGrantsAndWebSockets: token grants are counted by upstream,
// kind and result only (no user, no token), the open WebSockets gauge
// goes up and down, and a nil *Metrics records nothing.
func TestUpstreamGrantsAndWebSockets(t *testing.T) {
	m := metrics.New()
	if _, ok := gather(t, m)["authbff_upstream_token_grants_total"]; ok {
		t.Fatal("grant series exported before any grant")
	}
	m.UpstreamGrant("a", "user", metrics.RefreshOK, time.Millisecond)
	m.UpstreamGrant("a", "user", metrics.RefreshOK, time.Millisecond)
	m.UpstreamGrant("c", "client", metrics.RefreshTransient, time.Millisecond)
	m.WebSocket("ws", 1)
	m.WebSocket("ws", 1)
	m.WebSocket("ws", -1)
	f := gather(t, m)
	if v, ok := f.value("authbff_upstream_token_grants_total", "upstream", "a", "kind", "user", "result", "ok"); !ok || v != 2 {
		t.Fatalf("grants a/user/ok = %v %v", v, ok)
	}
	if v, ok := f.value("authbff_upstream_token_grants_total", "upstream", "c", "kind", "client", "result", "transient"); !ok || v != 1 {
		t.Fatalf("grants c/client/transient = %v %v", v, ok)
	}
	if v, ok := f.value("authbff_websockets_open", "upstream", "ws"); !ok || v != 1 {
		t.Fatalf("open websockets = %v %v", v, ok)
	}
	var nilM *metrics.Metrics
	nilM.UpstreamGrant("a", "user", "ok", 0)
	nilM.WebSocket("ws", 1)
}
