package session

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"testing"
)

func TestDeriveKeyMatchesHKDF(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	s, err := newSealer(secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{"", "abc", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", string(bytes.Repeat([]byte("x"), 200))} {
		want, err := hkdf.Key(sha256.New, secret, nil, sealInfoPrefix+token, keySize)
		if err != nil {
			t.Fatal(err)
		}
		var got [keySize]byte
		s.deriveKey(&got, token)
		if !bytes.Equal(got[:], want) {
			t.Errorf("deriveKey(%q) = %x, want %x", token, got, want)
		}
	}
}

func TestSealOpen(t *testing.T) {
	s, err := newSealer(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	other, err := newSealer(bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	const token, token2 = "tok-A", "tok-B"
	id, id2 := []byte(IDFromToken(token)), []byte(IDFromToken(token2))
	plain := []byte(`{"hello":"world"}`)
	sealed, err := s.seal(token, id, plain)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != nonceSize+len(plain)+16 {
		t.Fatalf("sealed length %d, want %d", len(sealed), nonceSize+len(plain)+16)
	}
	again, _ := s.seal(token, id, plain)
	if bytes.Equal(sealed[:nonceSize], again[:nonceSize]) {
		t.Fatal("two seals used the same nonce")
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name   string
		sl     *sealer
		token  string
		id     []byte
		sealed []byte
		ok     bool
	}{
		{"round trip", s, token, id, sealed, true},
		{"nonce flipped", s, token, id, flip(0), false},
		{"ciphertext flipped", s, token, id, flip(nonceSize + 1), false},
		{"tag flipped", s, token, id, flip(len(sealed) - 1), false},
		{"truncated", s, token, id, sealed[:len(sealed)-1], false},
		{"too short", s, token, id, sealed[:nonceSize+15], false},
		{"empty", s, token, id, nil, false},
		{"wrong token", s, token2, id, sealed, false},
		{"wrong id as AAD", s, token, id2, sealed, false},
		{"wrong secret", other, token, id, sealed, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.sl.open(nil, tc.token, tc.id, tc.sealed)
			if tc.ok {
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("open = %q, %v; want %q", got, err, plain)
				}
				return
			}
			if !errors.Is(err, errOpen) {
				t.Fatalf("open = %q, %v; want errOpen", got, err)
			}
		})
	}
}

func TestValidToken(t *testing.T) {
	good, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		token string
		ok    bool
	}{
		{good, true},
		{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", true},
		{"___________________________________________"[:42] + "w", true},
		{"", false},
		{"short", false},
		{good + "A", false},
		{good[:42], false},
		{good[:42] + "B", false}, // non-zero trailing bits: not canonical
		{good[:10] + "+" + good[11:], false},
		{good[:10] + "=" + good[11:], false},
		{good[:10] + "\x00" + good[11:], false},
	}
	for _, tc := range tests {
		t.Run(tc.token, func(t *testing.T) {
			if got := validToken(tc.token); got != tc.ok {
				t.Fatalf("validToken(%q) = %v, want %v", tc.token, got, tc.ok)
			}
		})
	}
}
