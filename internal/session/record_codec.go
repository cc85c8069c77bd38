package session

import (
	"encoding/binary"
	"errors"
	"time"
)

// Stores keep records in a compact binary form (the record ID is the store
// key and is not repeated). Version 1 layout: the byte 1, then Created, LastSeen,
// Expires (each a varint Unix second and a uvarint nanosecond, so nanosecond
// precision is kept), Version (varint), UserKey, SID, UserAgent and Sealed
// (each a uvarint length then the bytes).
// Version 2 appends Revoke (a uvarint length then the bytes); it is written
// only when Revoke is set, so records without it keep the version 1 form.
const (
	recordCodecV1 = 1
	recordCodecV2 = 2
)

// ErrCorruptRecord is returned by UnmarshalRecord for bytes that are not a
// stored record. Stores report it wrapped in ErrUnavailable.
var ErrCorruptRecord = errors.New("corrupt session record")

// MarshalRecord returns the stored form of r (without r.ID).
func MarshalRecord(r *Record) []byte {
	return AppendRecord(make([]byte, 0, 64+len(r.UserKey)+len(r.SID)+len(r.UserAgent)+len(r.Sealed)+len(r.Revoke)), r)
}

// AppendRecord appends the stored form of r (without r.ID) to b.
func AppendRecord(b []byte, r *Record) []byte {
	v := byte(recordCodecV1)
	if len(r.Revoke) > 0 {
		v = recordCodecV2
	}
	b = append(b, v)
	b = recAppendTime(b, r.Created)
	b = recAppendTime(b, r.LastSeen)
	b = recAppendTime(b, r.Expires)
	b = binary.AppendVarint(b, r.Version)
	b = recAppendBytes(b, r.UserKey)
	b = recAppendBytes(b, r.SID)
	b = recAppendBytes(b, r.UserAgent)
	b = recAppendBytes(b, r.Sealed)
	if v == recordCodecV2 {
		b = recAppendBytes(b, r.Revoke)
	}
	return b
}

// knownCodec reports whether v starts with a record codec version this
// package reads.
func knownCodec(v []byte) bool {
	return len(v) > 0 && (v[0] == recordCodecV1 || v[0] == recordCodecV2)
}

func recAppendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func recAppendBytes[T string | []byte](b []byte, s T) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// recDecoder reads the stored form; everything it returns is copied, since
// a store's memory (bolt's mmap) may only be valid for a moment.
type recDecoder struct {
	b   []byte
	err error
}

// UnmarshalRecord decodes the stored form of the record with id.
func UnmarshalRecord(id string, v []byte) (*Record, error) {
	if !knownCodec(v) {
		return nil, ErrCorruptRecord
	}
	d := recDecoder{b: v[1:]}
	r := &Record{ID: id}
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
	if v[0] == recordCodecV2 {
		if s := d.bytes(); len(s) > 0 {
			r.Revoke = append([]byte(nil), s...)
		}
	}
	if d.err != nil || len(d.b) != 0 {
		return nil, ErrCorruptRecord
	}
	return r, nil
}

// UnmarshalRecordMeta decodes only what indexes need: UserKey and Expires.
func UnmarshalRecordMeta(v []byte) (userKey string, expires time.Time, err error) {
	if !knownCodec(v) {
		return "", time.Time{}, ErrCorruptRecord
	}
	d := recDecoder{b: v[1:]}
	d.time()
	d.time()
	expires = d.time()
	d.varint()
	userKey = string(d.bytes())
	if d.err != nil {
		return "", time.Time{}, ErrCorruptRecord
	}
	return userKey, expires, nil
}

// UnmarshalRecordIndex decodes what every index needs: UserKey, the
// record's SIDKey ("" without a SID) and Expires.
func UnmarshalRecordIndex(v []byte) (userKey, sidKey string, expires time.Time, err error) {
	if !knownCodec(v) {
		return "", "", time.Time{}, ErrCorruptRecord
	}
	d := recDecoder{b: v[1:]}
	d.time()
	d.time()
	expires = d.time()
	d.varint()
	r := Record{UserKey: string(d.bytes()), SID: string(d.bytes())}
	if d.err != nil {
		return "", "", time.Time{}, ErrCorruptRecord
	}
	return r.UserKey, r.SIDKey(), expires, nil
}

func (d *recDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = ErrCorruptRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = ErrCorruptRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recDecoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if d.err != nil || nsec >= 1e9 {
		d.err = ErrCorruptRecord
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (d *recDecoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = ErrCorruptRecord
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}
