package redisstore

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/session"
)

func TestCodecRoundTripAndJSONFallback(t *testing.T) {
	now := time.Now()
	rec := &session.Record{ID: "abc123", UserKey: "cognito|u1", SID: "sid", Created: now, LastSeen: now,
		Expires: now.Add(time.Hour), UserAgent: "UA", Version: 7, Sealed: []byte{1, 2, 3, 0xff}}
	b, err := encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decode(b)
	if err != nil || got.ID != rec.ID || got.Version != 7 || !got.Expires.Equal(rec.Expires) || string(got.Sealed) != string(rec.Sealed) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	// Records written by earlier versions (JSON) still read.
	old, _ := json.Marshal(rec)
	got, err = decode(old)
	if err != nil || got.ID != rec.ID || got.UserKey != rec.UserKey {
		t.Fatalf("JSON record: %+v %v", got, err)
	}
	for _, bad := range [][]byte{{codecBinary, 9, 'a'}, append([]byte{codecBinary, 1, 'a'}, 9, 9), []byte("{x")} {
		if _, err := decode(bad); err == nil {
			t.Fatalf("decoded garbage %q", bad)
		}
	}
	if _, err := decode([]byte{codecBinary, 1, 'a', 9}); !errors.Is(err, session.ErrCorruptRecord) {
		t.Fatalf("corrupt binary record: %v", err)
	}
}
