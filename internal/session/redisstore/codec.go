package redisstore

import (
	"encoding/json"
	"fmt"

	"github.com/authbff/authbff/internal/session"
)

// encode is the stored form of a record: its JSON (Sealed as base64). The
// record holds only metadata and sealed bytes, so this reveals no secret.
func encode(rec *session.Record) ([]byte, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("redisstore: encode record: %w", err)
	}
	return b, nil
}

// decode parses a stored record into a fresh value.
func decode(b []byte) (*session.Record, error) {
	rec := new(session.Record)
	if err := json.Unmarshal(b, rec); err != nil {
		return nil, fmt.Errorf("redisstore: decode record: %w", err)
	}
	return rec, nil
}
