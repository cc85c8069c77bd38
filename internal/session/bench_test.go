package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
)

// BenchmarkManagerLoad measures the hot path: one session read from memstore,
// opened and decoded (no expiry extension).
func BenchmarkManagerLoad(b *testing.B) {
	st := memstore.New(memstore.Options{})
	b.Cleanup(func() { _ = st.Close() })
	m, err := session.NewManager(session.ManagerOptions{Store: st, Secrets: [][]byte{secret(1), secret(2)}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	d := sampleData()
	d.Tokens.AccessExpiry = time.Now().Add(time.Hour)
	tok, _, err := m.Create(ctx, d, session.Meta{UserAgent: "Mozilla/5.0"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Load(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMapLookup is the baseline BenchmarkManagerLoad is compared with.
func BenchmarkMapLookup(b *testing.B) {
	tok, _ := session.NewToken()
	m := map[string]*session.Session{tok: {ID: session.IDFromToken(tok)}}
	b.ReportAllocs()
	for b.Loop() {
		if m[tok] == nil {
			b.Fatal("missing")
		}
	}
}
