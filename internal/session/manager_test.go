package session_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/testclock"

	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

type clock = testclock.Clock

func secret(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// fixture is a Manager on a memstore sharing one injected clock.
type fixture struct {
	clk   *clock
	store *memstore.Store
	m     *session.Manager
}

func newFixture(t *testing.T, secrets ...[]byte) *fixture {
	t.Helper()
	clk := testclock.New(t0)
	st := memstore.New(memstore.Options{Now: clk.Now, CleanupInterval: -1})
	t.Cleanup(func() { _ = st.Close() })
	if len(secrets) == 0 {
		secrets = [][]byte{secret(1)}
	}
	return &fixture{clk: clk, store: st, m: newManager(t, st, clk, secrets...)}
}

func newManager(t *testing.T, st session.Store, clk *clock, secrets ...[]byte) *session.Manager {
	t.Helper()
	// An absolute lifetime beyond these tests' horizon, so that they see the
	// sliding expiry alone (lifecycle_test.go covers the absolute limit).
	m, err := session.NewManager(session.ManagerOptions{
		Store: st, Secrets: secrets, MaxAge: 30 * 24 * time.Hour, UpdateAge: 24 * time.Hour, Now: clk.Now,
		AbsoluteLifetime: 365 * 24 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sampleData() session.Data {
	return session.Data{
		Provider: "cognito",
		Issuer:   "https://cognito-idp.eu-west-1.amazonaws.com/pool",
		Subject:  "sub-123",
		User:     session.User{ID: "sub-123", Name: "Alice", Email: "alice@example.com", Groups: []string{"admin", "dev"}},
		Tokens: session.Tokens{
			IDToken:      "eyJ-ID-TOKEN-SECRET-VALUE",
			AccessToken:  "eyJ-ACCESS-TOKEN-SECRET-VALUE",
			RefreshToken: "REFRESH-TOKEN-SECRET-VALUE",
			TokenType:    "Bearer",
			AccessExpiry: t0.Add(time.Hour),
		},
	}
}

func mustCreate(t *testing.T, m *session.Manager, d session.Data) (string, *session.Session) {
	t.Helper()
	tok, s, err := m.Create(context.Background(), d, session.Meta{UserAgent: "UA/1", SID: "idp-sid"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return tok, s
}

func TestRoundTrip(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, created := mustCreate(t, f.m, sampleData())
	if len(tok) != 43 || created.ID != session.IDFromToken(tok) {
		t.Fatalf("token %q / id %q not as specified", tok, created.ID)
	}
	s, err := f.m.Load(ctx, tok)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(s.Data, sampleData()) {
		t.Errorf("Data = %+v, want %+v", s.Data, sampleData())
	}
	want := session.Session{
		ID: created.ID, UserKey: "cognito|sub-123", SID: "idp-sid", UserAgent: "UA/1",
		Created: t0, LastSeen: t0, Expires: t0.Add(30 * 24 * time.Hour), Version: 1, Data: sampleData(),
	}
	if !reflect.DeepEqual(*s, want) {
		t.Errorf("Load = %+v\nwant %+v", *s, want)
	}

	s.Data.Tokens.AccessToken = "new-access"
	s.Data.RefreshError = "RefreshAccessTokenError"
	if err := f.m.Save(ctx, tok, s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if s.Version != 2 {
		t.Errorf("Version after Save = %d, want 2", s.Version)
	}
	again, err := f.m.Load(ctx, tok)
	if err != nil {
		t.Fatalf("Load after Save: %v", err)
	}
	if again.Data.Tokens.AccessToken != "new-access" || again.Data.RefreshError != "RefreshAccessTokenError" || again.Version != 2 || !again.Created.Equal(t0) {
		t.Errorf("Load after Save = %+v", again)
	}

	other, _ := session.NewToken()
	if err := f.m.Save(ctx, other, s); err == nil {
		t.Error("Save with another session's token succeeded")
	}

	if err := f.m.Delete(ctx, tok); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := f.m.Load(ctx, tok); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load after Delete = %v, want ErrNotFound", err)
	}
	if err := f.m.Delete(ctx, "malformed"); err != nil {
		t.Fatalf("Delete(malformed) = %v, want nil", err)
	}
}

func TestSealedHidesSecrets(t *testing.T) {
	f := newFixture(t)
	tok, s := mustCreate(t, f.m, sampleData())
	rec, err := f.store.Get(context.Background(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.ID == tok || strings.Contains(rec.ID, tok) {
		t.Fatal("record id contains the cookie token")
	}
	d := sampleData()
	for _, secret := range []string{tok, d.Tokens.IDToken, d.Tokens.AccessToken, d.Tokens.RefreshToken, d.User.Email, "ACCESS", "REFRESH"} {
		if bytes.Contains(rec.Sealed, []byte(secret)) {
			t.Errorf("sealed bytes contain %q", secret)
		}
	}
}

// TestTamperedRecords stores a modified copy of a record and expects Load to
// report ErrNotFound (never a panic, never ErrUnavailable).
func TestTamperedRecords(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, f *fixture, tok string, rec *session.Record) (loadToken string)
	}{
		{"flipped ciphertext byte", func(_ *testing.T, _ *fixture, tok string, rec *session.Record) string {
			rec.Sealed[20] ^= 0x80
			return tok
		}},
		{"flipped tag byte", func(_ *testing.T, _ *fixture, tok string, rec *session.Record) string {
			rec.Sealed[len(rec.Sealed)-1] ^= 1
			return tok
		}},
		{"truncated", func(_ *testing.T, _ *fixture, tok string, rec *session.Record) string {
			rec.Sealed = rec.Sealed[:5]
			return tok
		}},
		{"empty", func(_ *testing.T, _ *fixture, tok string, rec *session.Record) string {
			rec.Sealed = nil
			return tok
		}},
		{"record copied under another token's id", func(t *testing.T, f *fixture, _ string, rec *session.Record) string {
			other, err := session.NewToken()
			if err != nil {
				t.Fatal(err)
			}
			rec.ID = session.IDFromToken(other)
			return other
		}},
		{"sealed moved to another live session", func(t *testing.T, f *fixture, _ string, rec *session.Record) string {
			otherTok, other := mustCreate(t, f.m, session.Data{Provider: "p", Subject: "mallory"})
			rec.ID = other.ID
			return otherTok
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			tok, s := mustCreate(t, f.m, sampleData())
			rec, err := f.store.Get(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			loadTok := tc.mutate(t, f, tok, rec)
			overwrite(t, f.store, rec)
			got, err := f.m.Load(ctx, loadTok)
			if !errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrUnavailable) {
				t.Fatalf("Load = %+v, %v; want ErrNotFound only", got, err)
			}
		})
	}
}

// countingStore counts Get calls and can inject faults.
type countingStore struct {
	session.Store
	gets    atomic.Int64
	getErr  error
	saveErr error
	saveOK  atomic.Int64 // Saves to let through before saveErr applies
}

func (c *countingStore) Get(ctx context.Context, id string) (*session.Record, error) {
	c.gets.Add(1)
	if c.getErr != nil {
		return nil, c.getErr
	}
	return c.Store.Get(ctx, id)
}

func (c *countingStore) Create(ctx context.Context, r *session.Record) error {
	if c.saveErr != nil && c.saveOK.Add(-1) < 0 {
		return c.saveErr
	}
	return c.Store.Create(ctx, r)
}

func (c *countingStore) Update(ctx context.Context, r *session.Record, version int64) error {
	if c.saveErr != nil && c.saveOK.Add(-1) < 0 {
		return c.saveErr
	}
	return c.Store.Update(ctx, r, version)
}

// overwrite replaces what st holds for rec.ID with rec, whatever its
// version (tests that tamper with stored records).
func overwrite(t testing.TB, st session.Store, rec *session.Record) {
	t.Helper()
	ctx := context.Background()
	cur, err := st.Get(ctx, rec.ID)
	if errors.Is(err, session.ErrNotFound) {
		if err := st.Create(ctx, rec); err != nil {
			t.Fatalf("overwrite: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	if err := st.Update(ctx, rec, cur.Version); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
}

func TestMalformedTokenSkipsStore(t *testing.T) {
	f := newFixture(t)
	cs := &countingStore{Store: f.store}
	m := newManager(t, cs, f.clk, secret(1))
	good, _ := session.NewToken()
	for _, tok := range []string{"", "x", good + "x", good[:42] + "!", strings.Repeat("A", 42) + "B", "../../etc/passwd"} {
		if _, err := m.Load(context.Background(), tok); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Load(%q) = %v, want ErrNotFound", tok, err)
		}
	}
	if n := cs.gets.Load(); n != 0 {
		t.Fatalf("store Get called %d times for malformed tokens", n)
	}
}

func TestStoreFault(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"plain error", errors.New("connection refused")},
		{"already wrapped", errors.Join(session.ErrUnavailable, errors.New("disk"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			tok, _ := mustCreate(t, f.m, sampleData())
			cs := &countingStore{Store: f.store, getErr: tc.err, saveErr: tc.err}
			m := newManager(t, cs, f.clk, secret(1))
			_, err := m.Load(ctx, tok)
			if !errors.Is(err, session.ErrUnavailable) || errors.Is(err, session.ErrNotFound) {
				t.Fatalf("Load = %v; want ErrUnavailable and not ErrNotFound", err)
			}
			if !errors.Is(err, tc.err) && !strings.Contains(err.Error(), "disk") {
				t.Errorf("Load error %v lost the cause", err)
			}
			if _, _, err := m.Create(ctx, sampleData(), session.Meta{}); !errors.Is(err, session.ErrUnavailable) {
				t.Errorf("Create = %v; want ErrUnavailable", err)
			}
		})
	}
}

func TestSecretRotation(t *testing.T) {
	f := newFixture(t, secret(1))
	ctx := context.Background()
	tok, _ := mustCreate(t, f.m, sampleData())

	onlyNew := newManager(t, f.store, f.clk, secret(2))
	if _, err := onlyNew.Load(ctx, tok); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load with only the new secret = %v, want ErrNotFound", err)
	}
	rotated := newManager(t, f.store, f.clk, secret(2), secret(1))
	s, err := rotated.Load(ctx, tok)
	if err != nil {
		t.Fatalf("Load during rotation: %v", err)
	}
	if s.Data.Tokens.AccessToken != sampleData().Tokens.AccessToken {
		t.Fatalf("Data not opened under previous secret: %+v", s.Data)
	}
	if err := rotated.Save(ctx, tok, s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	// Resealed with the current secret: readable without the old one, not with it alone.
	if _, err := onlyNew.Load(ctx, tok); err != nil {
		t.Fatalf("Load with new secret after reseal: %v", err)
	}
	if _, err := f.m.Load(ctx, tok); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load with old secret after reseal = %v, want ErrNotFound", err)
	}
}

func TestSlidingExpiry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, _ := mustCreate(t, f.m, sampleData())
	day, maxAge := 24*time.Hour, 30*24*time.Hour
	steps := []struct {
		name        string
		advance     time.Duration
		extended    bool
		wantExpires time.Time
		gone        bool
	}{
		{"fresh", time.Hour, false, t0.Add(maxAge), false},
		{"just before UpdateAge", day - time.Hour - time.Nanosecond, false, t0.Add(maxAge), false},
		{"at UpdateAge", time.Nanosecond, true, t0.Add(day + maxAge), false},
		{"right after extension", time.Minute, false, t0.Add(day + maxAge), false},
		{"idle until just before expiry", maxAge - time.Minute - time.Nanosecond, true, t0.Add(day + 2*maxAge - time.Nanosecond), false},
		{"idle past MaxAge", maxAge, false, time.Time{}, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			f.clk.Add(st.advance)
			rec0, _ := f.store.Get(ctx, session.IDFromToken(tok))
			if rec0 == nil {
				rec0 = &session.Record{}
			}
			s, err := f.m.Load(ctx, tok)
			if st.gone {
				if !errors.Is(err, session.ErrNotFound) {
					t.Fatalf("Load = %+v, %v; want ErrNotFound", s, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if s.Extended != st.extended || !s.Expires.Equal(st.wantExpires) {
				t.Fatalf("Extended = %v, Expires = %v; want %v, %v", s.Extended, s.Expires, st.extended, st.wantExpires)
			}
			if st.extended && (!s.LastSeen.Equal(f.clk.Now()) || s.Version != rec0.Version+1) {
				t.Fatalf("LastSeen = %v, Version = %d; want now, %d (an extension is a write: it bumps Version)", s.LastSeen, s.Version, rec0.Version+1)
			}
			rec, err := f.store.Get(ctx, s.ID)
			if err != nil || !rec.Expires.Equal(st.wantExpires) {
				t.Fatalf("stored Expires = %v, %v; want %v", rec, err, st.wantExpires)
			}
		})
	}
}

// TestExtensionKeepsConcurrentSave: a Load whose read was overtaken by a
// refresh does not extend over it (the conditional write refuses): the
// refreshed record stays as it was written.
func TestExtensionKeepsConcurrentSave(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, _ := mustCreate(t, f.m, sampleData())
	stale, err := f.store.Get(ctx, session.IDFromToken(tok))
	if err != nil {
		t.Fatal(err)
	}
	// Another request refreshes the tokens after our Load read the record.
	s, err := f.m.Load(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	s.Data.Tokens.AccessToken = "refreshed"
	if err := f.m.Save(ctx, tok, s); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(25 * time.Hour)
	m := newManager(t, &replayStore{Store: f.store, first: stale}, f.clk, secret(1))
	got, err := m.Load(ctx, tok)
	if err != nil || got.Extended {
		t.Fatalf("Load = %+v, %v; want the session as read, not extended over the newer write", got, err)
	}
	now, err := f.store.Get(ctx, session.IDFromToken(tok))
	if err != nil {
		t.Fatal(err)
	}
	if now.Version != 2 || !now.Expires.Equal(t0.Add(30*24*time.Hour)) {
		t.Fatalf("after the refused extension: version %d, expires %v; want the refreshed record as written", now.Version, now.Expires)
	}
	// The next load extends the refreshed record.
	again, err := f.m.Load(ctx, tok)
	if err != nil || !again.Extended || again.Data.Tokens.AccessToken != "refreshed" || again.Version != 3 {
		t.Fatalf("next Load = %+v, %v; want the refreshed session, extended at version 3", again, err)
	}
}

// replayStore returns first from the first Get, then defers to Store.
type replayStore struct {
	session.Store
	first *session.Record
	used  bool
}

func (r *replayStore) Get(ctx context.Context, id string) (*session.Record, error) {
	if !r.used {
		r.used = true
		c := *r.first
		return &c, nil
	}
	return r.Store.Get(ctx, id)
}

func TestExtensionSaveFailureIsNotAnError(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, _ := mustCreate(t, f.m, sampleData())
	cs := &countingStore{Store: f.store, saveErr: errors.New("read-only")}
	m := newManager(t, cs, f.clk, secret(1))
	f.clk.Add(25 * time.Hour)
	s, err := m.Load(ctx, tok)
	if err != nil {
		t.Fatalf("Load = %v; want the session despite the failed extension", err)
	}
	if s.Extended || !s.Expires.Equal(t0.Add(30*24*time.Hour)) {
		t.Fatalf("Extended = %v, Expires = %v; want unextended", s.Extended, s.Expires)
	}
}

func TestListAndDeleteUser(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alice := sampleData()
	bob := sampleData()
	bob.Subject = "sub-bob"
	a1, _ := mustCreate(t, f.m, alice)
	f.clk.Add(time.Minute)
	_, s2 := mustCreate(t, f.m, alice)
	b1, _ := mustCreate(t, f.m, bob)

	list, err := f.m.List(ctx, session.UserKey("cognito", "sub-123"))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != s2.ID || list[1].ID != session.IDFromToken(a1) {
		t.Fatalf("List = %+v; want the two sessions, most recent first", list)
	}
	if list[0].UserAgent != "UA/1" || list[0].SID != "idp-sid" || !list[0].Created.Equal(t0.Add(time.Minute)) {
		t.Errorf("Info = %+v", list[0])
	}

	if err := f.m.DeleteID(ctx, s2.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := f.m.List(ctx, "cognito|sub-123"); len(list) != 1 {
		t.Fatalf("List after DeleteID = %d sessions, want 1", len(list))
	}
	mustCreate(t, f.m, alice)
	n, err := f.m.DeleteUser(ctx, "cognito|sub-123")
	if err != nil || n != 2 {
		t.Fatalf("DeleteUser = %d, %v; want 2", n, err)
	}
	if _, err := f.m.Load(ctx, a1); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load after DeleteUser = %v", err)
	}
	if _, err := f.m.Load(ctx, b1); err != nil {
		t.Fatalf("other user's session affected: %v", err)
	}
	if list, err := f.m.List(ctx, "cognito|sub-123"); err != nil || len(list) != 0 {
		t.Fatalf("List after DeleteUser = %v, %v", list, err)
	}
}
