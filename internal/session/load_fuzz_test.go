package session_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
)

// FuzzLoadTamperedRecord is an attacker who can write to the store (but
// holds no cookie token): it replaces a live session's sealed bytes and
// metadata with arbitrary values. Loading with the real cookie must never
// panic, must fail as ErrNotFound, and may succeed only with the Data the
// session was created with (AES-GCM under a key derived from the token, with
// the record id as additional data, admits nothing else).
func FuzzLoadTamperedRecord(f *testing.F) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	now := func() time.Time { return at }
	st := memstore.New(memstore.Options{Now: now, CleanupInterval: -1})
	f.Cleanup(func() { _ = st.Close() })
	m, err := session.NewManager(session.ManagerOptions{
		Store: st, Secrets: [][]byte{[]byte("fuzz-secret-fuzz-secret-fuzz-secret!")}, Now: now,
	})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	data := session.Data{
		Provider: "cognito", Subject: "victim",
		User:   session.User{ID: "victim", Email: "victim@example.com"},
		Tokens: session.Tokens{AccessToken: "victim-access", RefreshToken: "victim-refresh"},
	}
	token, s, err := m.Create(ctx, data, session.Meta{})
	if err != nil {
		f.Fatal(err)
	}
	rec, err := st.Get(ctx, s.ID)
	if err != nil {
		f.Fatal(err)
	}
	orig := *rec
	// The attacker's own session: its sealed bytes moved onto the victim's
	// record must not open (the key and the additional data differ).
	_, other, err := m.Create(ctx, session.Data{Provider: "cognito", Subject: "attacker"}, session.Meta{})
	if err != nil {
		f.Fatal(err)
	}
	otherRec, err := st.Get(ctx, other.ID)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(orig.Sealed, orig.UserKey, int64(0))
	f.Add(otherRec.Sealed, otherRec.UserKey, int64(0))
	f.Add(orig.Sealed[:len(orig.Sealed)-1], orig.UserKey, int64(-2*24*3600))
	f.Add([]byte{}, "", int64(0))
	f.Fuzz(func(t *testing.T, sealed []byte, userKey string, lastSeenShift int64) {
		tampered := orig
		tampered.Sealed = sealed
		tampered.UserKey = userKey
		tampered.LastSeen = orig.LastSeen.Add(time.Duration(lastSeenShift%(40*24*3600)) * time.Second)
		overwrite(t, st, &tampered)
		got, err := m.Load(ctx, token)
		if err != nil {
			if !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("Load of a tampered record: %v, want ErrNotFound", err)
			}
			return
		}
		if !reflect.DeepEqual(got.Data, data) {
			t.Fatalf("a tampered record opened as %+v", got.Data)
		}
	})
}
