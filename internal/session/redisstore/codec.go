package redisstore

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/authbff/authbff/internal/session"
)

// encode is the stored form of a record: session.MarshalRecord's compact
// binary form, prefixed with the record ID (Redis keys are prefixed, so the
// value carries its own ID). It holds only metadata and sealed bytes, so it
// reveals no secret.
func encode(rec *session.Record) ([]byte, error) {
	if len(rec.ID) > 255 {
		return nil, fmt.Errorf("redisstore: encode record: id of %d bytes", len(rec.ID))
	}
	b := make([]byte, 0, 2+len(rec.ID)+len(rec.Sealed)+128)
	b = append(b, codecBinary, byte(len(rec.ID)))
	b = append(b, rec.ID...)
	return append(b, session.MarshalRecord(rec)...), nil
}

// codecBinary marks the binary form; records written by earlier versions
// are JSON and start with '{'.
const codecBinary = 0xb1

// decode parses a stored record (binary, or the older JSON form) into a
// fresh value.
func decode(b []byte) (*session.Record, error) {
	if len(b) > 2 && b[0] == codecBinary {
		n := int(b[1])
		if len(b) < 2+n {
			return nil, fmt.Errorf("redisstore: decode record: %w", session.ErrCorruptRecord)
		}
		rec, err := session.UnmarshalRecord(string(b[2:2+n]), b[2+n:])
		if err != nil {
			return nil, fmt.Errorf("redisstore: decode record: %w", err)
		}
		return rec, nil
	}
	rec := new(session.Record)
	if err := json.Unmarshal(b, rec); err != nil {
		return nil, fmt.Errorf("redisstore: decode record: %w", err)
	}
	return rec, nil
}

// EncodeRecord returns the value a Store writes for rec under key
// <prefix>s:<rec.ID>, for tools that seed a store in bulk (bench/seed).
func EncodeRecord(rec *session.Record) ([]byte, error) { return encode(rec) }

// isTombstone reports whether a stored value is an ended record's
// tombstone (see scripts.go).
func isTombstone(b []byte) bool { return bytes.Equal(b, []byte(tombstone)) }
