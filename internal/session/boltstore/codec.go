package boltstore

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/authbff/authbff/internal/session"
)

// Records are stored in a compact binary form (the record ID is the bolt key
// and is not repeated). Version 1 layout: the byte 1, then Created, LastSeen,
// Expires (each a varint Unix second and a uvarint nanosecond, so nanosecond
// precision is kept), Version (varint), UserKey, SID, UserAgent and Sealed
// (each a uvarint length then the bytes).
const recordCodecV1 = 1

var errCorrupt = errors.New("corrupt session record")

// encodeRecord returns the stored form of r.
func encodeRecord(r *session.Record) []byte {
	b := make([]byte, 0, 64+len(r.UserKey)+len(r.SID)+len(r.UserAgent)+len(r.Sealed))
	b = append(b, recordCodecV1)
	b = appendTime(b, r.Created)
	b = appendTime(b, r.LastSeen)
	b = appendTime(b, r.Expires)
	b = binary.AppendVarint(b, r.Version)
	b = appendBytes(b, r.UserKey)
	b = appendBytes(b, r.SID)
	b = appendBytes(b, r.UserAgent)
	b = appendBytes(b, r.Sealed)
	return b
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func appendBytes[T string | []byte](b []byte, s T) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads the stored form; it copies everything it returns, since bolt's
// memory is only valid inside the transaction.
type decoder struct {
	b   []byte
	err error
}

// decodeRecord decodes the stored form of the record with id.
func decodeRecord(id string, v []byte) (*session.Record, error) {
	if len(v) == 0 || v[0] != recordCodecV1 {
		return nil, errCorrupt
	}
	d := decoder{b: v[1:]}
	r := &session.Record{ID: id}
	r.Created = d.time()
	r.LastSeen = d.time()
	r.Expires = d.time()
	r.Version = d.varint()
	r.UserKey = string(d.bytes())
	r.SID = string(d.bytes())
	r.UserAgent = string(d.bytes())
	if s := d.bytes(); len(s) > 0 {
		r.Sealed = append([]byte(nil), s...)
	}
	if d.err != nil || len(d.b) != 0 {
		return nil, errCorrupt
	}
	return r, nil
}

// decodeMeta decodes only what the indexes need: UserKey and Expires.
func decodeMeta(v []byte) (userKey string, expires time.Time, err error) {
	if len(v) == 0 || v[0] != recordCodecV1 {
		return "", time.Time{}, errCorrupt
	}
	d := decoder{b: v[1:]}
	d.time()
	d.time()
	expires = d.time()
	d.varint()
	userKey = string(d.bytes())
	if d.err != nil {
		return "", time.Time{}, errCorrupt
	}
	return userKey, expires, nil
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if d.err != nil || nsec >= 1e9 {
		d.err = errCorrupt
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec))
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errCorrupt
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}
