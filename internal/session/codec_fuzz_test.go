package session

import (
	"bytes"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Fuzz targets for the decoders of what a store returns (a store dump or a
// tampered store is in the threat model) and of the session cookie. Seeds
// live in testdata/fuzz/<name>/ and run in every `go test`. FuzzDecodeData
// (codec_test.go) covers the sealed Data encoding.

func fuzzRecords() []*Record {
	at := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	return []*Record{
		{},
		{
			UserKey: "cognito|sub-1", SID: "sid-1", UserAgent: "Mozilla/5.0",
			Created: at, LastSeen: at.Add(time.Hour), Expires: at.Add(30 * 24 * time.Hour),
			Version: 7, Sealed: bytes.Repeat([]byte{0xAB}, 40),
		},
		{Created: time.Unix(-1, 999999999), Version: -1, UserKey: strings.Repeat("u", 300)},
	}
}

// FuzzUnmarshalRecord decodes arbitrary stored bytes: no panic, only
// ErrCorruptRecord as an error, UnmarshalRecordMeta agreeing with
// UnmarshalRecord, and a decoded record re-encoding to the same record
// (MarshalRecord then being a fixed point).
func FuzzUnmarshalRecord(f *testing.F) {
	for _, r := range fuzzRecords() {
		f.Add(MarshalRecord(r))
	}
	f.Add([]byte{recordCodecV1})
	f.Add([]byte{2, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		uk, exp, merr := UnmarshalRecordMeta(b)
		if merr != nil && !errors.Is(merr, ErrCorruptRecord) {
			t.Fatalf("UnmarshalRecordMeta error %v is not ErrCorruptRecord", merr)
		}
		r, err := UnmarshalRecord("id", b)
		if err != nil {
			if !errors.Is(err, ErrCorruptRecord) {
				t.Fatalf("UnmarshalRecord error %v is not ErrCorruptRecord", err)
			}
			return
		}
		if r.ID != "id" {
			t.Fatalf("ID = %q", r.ID)
		}
		if merr != nil || uk != r.UserKey || !exp.Equal(r.Expires) {
			t.Fatalf("UnmarshalRecordMeta = %q, %v, %v; UnmarshalRecord has %q, %v", uk, exp, merr, r.UserKey, r.Expires)
		}
		m := MarshalRecord(r)
		again, err := UnmarshalRecord("id", m)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, r)
		}
		if m2 := MarshalRecord(again); !bytes.Equal(m, m2) {
			t.Fatal("MarshalRecord is not a fixed point")
		}
	})
}

// FuzzSessionToken checks the session cookie's shape check and store key on
// arbitrary cookie values: validToken accepts exactly the canonical
// base64url encodings of 32 bytes, and the allocation-free idBytes agrees
// with IDFromToken.
func FuzzSessionToken(f *testing.F) {
	tok, err := NewToken()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{tok, "", strings.Repeat("A", 43), strings.Repeat("_", 42) + "w", strings.Repeat("_", 43), tok + "=", strings.Repeat("A", 44)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		dec, err := base64.RawURLEncoding.Strict().DecodeString(token)
		canonical := err == nil && len(dec) == tokenBytes && base64.RawURLEncoding.EncodeToString(dec) == token
		if got := validToken(token); got != canonical {
			t.Fatalf("validToken(%q) = %v, want %v", token, got, canonical)
		}
		id := IDFromToken(token)
		if len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("IDFromToken(%q) = %q: not 64 lowercase hex", token, id)
		}
		var idb [64]byte
		idBytes(&idb, token)
		if string(idb[:]) != id {
			t.Fatalf("idBytes(%q) = %q, IDFromToken = %q", token, idb, id)
		}
	})
}
