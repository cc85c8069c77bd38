package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/session"
)

// TestSetSecrets: after SetSecrets a record sealed with a secret still
// listed opens, new records are sealed with the new first secret (a
// Manager knowing only it opens them), a secret no longer listed opens
// nothing, and a refused SetSecrets changes nothing.
func TestSetSecrets(t *testing.T) {
	f := newFixture(t, secret(1))
	ctx := context.Background()
	before, _ := mustCreate(t, f.m, sampleData())
	if err := f.m.SetSecrets([][]byte{secret(2), secret(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Load(ctx, before); err != nil {
		t.Fatalf("a session sealed with the now previous secret: %v", err)
	}
	after, _ := mustCreate(t, f.m, sampleData())
	if _, err := newManager(t, f.store, f.clk, secret(2)).Load(ctx, after); err != nil {
		t.Fatalf("a Manager with only the new secret cannot open a new session: %v", err)
	}
	if _, err := newManager(t, f.store, f.clk, secret(1)).Load(ctx, after); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("a Manager with only the old secret opens a new session (err %v)", err)
	}
	if err := f.m.SetSecrets([][]byte{secret(3), []byte("short")}); err == nil {
		t.Fatal("a short secret was accepted")
	}
	if err := f.m.SetSecrets(nil); err == nil {
		t.Fatal("no secret was accepted")
	}
	if _, err := f.m.Load(ctx, before); err != nil {
		t.Fatalf("after refused SetSecrets the old session: %v", err)
	}
	if err := f.m.SetSecrets([][]byte{secret(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Load(ctx, before); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("secret 1 dropped, yet its session loads (err %v)", err)
	}
}

// TestExtendReseals: a session a previous secret opens is sealed again
// with the current one when its expiry slides, so an active session
// outlives its old secret's removal; before that it keeps its sealing.
func TestExtendReseals(t *testing.T) {
	f := newFixture(t, secret(1))
	ctx := context.Background()
	tok, _ := mustCreate(t, f.m, sampleData())
	if err := f.m.SetSecrets([][]byte{secret(2), secret(1)}); err != nil {
		t.Fatal(err)
	}
	onlyNew := newManager(t, f.store, f.clk, secret(2))
	if _, err := f.m.Load(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := onlyNew.Load(ctx, tok); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("resealed before its expiry slid (err %v)", err)
	}
	f.clk.Advance(25 * time.Hour) // past UpdateAge: the next Load extends
	s, err := f.m.Load(ctx, tok)
	if err != nil || !s.Extended {
		t.Fatalf("Load after UpdateAge: %v (extended %v)", err, s != nil && s.Extended)
	}
	got, err := onlyNew.Load(ctx, tok)
	if err != nil {
		t.Fatalf("the extended session is not sealed with the current secret: %v", err)
	}
	if got.Data.Subject != sampleData().Subject || got.Data.Tokens.RefreshToken != sampleData().Tokens.RefreshToken {
		t.Fatalf("resealed data differs: %+v", got.Data)
	}
}
