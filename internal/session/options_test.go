package session_test

import (
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
)

func TestNewManagerValidation(t *testing.T) {
	st := memstore.New(memstore.Options{CleanupInterval: -1})
	t.Cleanup(func() { _ = st.Close() })
	tests := []struct {
		name string
		o    session.ManagerOptions
		ok   bool
	}{
		{"valid", session.ManagerOptions{Store: st, Secrets: [][]byte{secret(1)}}, true},
		{"rotation", session.ManagerOptions{Store: st, Secrets: [][]byte{secret(1), secret(2)}}, true},
		{"no store", session.ManagerOptions{Secrets: [][]byte{secret(1)}}, false},
		{"no secret", session.ManagerOptions{Store: st}, false},
		{"short secret", session.ManagerOptions{Store: st, Secrets: [][]byte{make([]byte, 31)}}, false},
		{"short previous secret", session.ManagerOptions{Store: st, Secrets: [][]byte{secret(1), []byte("old")}}, false},
		{"negative MaxAge", session.ManagerOptions{Store: st, Secrets: [][]byte{secret(1)}, MaxAge: -1}, false},
		{"negative AbsoluteLifetime", session.ManagerOptions{Store: st, Secrets: [][]byte{secret(1)}, AbsoluteLifetime: -1}, false},
		{"negative MaxPerUser", session.ManagerOptions{Store: st, Secrets: [][]byte{secret(1)}, MaxPerUser: -1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := session.NewManager(tc.o)
			if (err == nil) != tc.ok {
				t.Fatalf("NewManager err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && m.MaxAge() != session.DefaultMaxAge {
				t.Errorf("MaxAge = %v, want default", m.MaxAge())
			}
		})
	}
}

func TestTokenHelpers(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, err := session.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != 43 || strings.ContainsAny(tok, "+/=") || seen[tok] {
			t.Fatalf("NewToken = %q", tok)
		}
		seen[tok] = true
	}
	if got := session.IDFromToken("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("IDFromToken(abc) = %s", got)
	}
	if got := session.UserKey("cognito", "s-1"); got != "cognito|s-1" {
		t.Errorf("UserKey = %s", got)
	}
}
