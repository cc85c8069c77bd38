package session

import (
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"time"
)

// The sealed plaintext of Data uses a small binary encoding instead of JSON:
// Load decodes it on every request, and this format decodes without
// reflection and with all strings sliced from a single allocation.
//
// Layout (version 1): the byte 1, then in order Provider, Issuer, Subject,
// User.ID, User.Name, User.Email, User.Image, len(User.Groups) (uvarint) and
// each group, Tokens.IDToken, Tokens.AccessToken, Tokens.RefreshToken,
// Tokens.TokenType, Tokens.AccessExpiry, RefreshError, RefreshedAt. A string
// is a uvarint length then its bytes; a time is a uvarint 0 for the zero time,
// else 1, a varint Unix second and a uvarint nanosecond (decoded as UTC).
// Extensions may follow, each a tag byte and its payload
// (codec_upstreams.go); a record without them is exactly version 1.
// Adding a field to Data requires a new version byte or extension (TestCodecCoversData
// fails until the codec is updated).
//
// Version 2 is version 1 followed by Claims then Extra, each a uvarint
// count and that many key/value string pairs in key order. It is written
// only when either map is non-empty, so sessions without them keep the
// version 1 bytes (and an older binary can still read them).
const (
	dataCodecV1 = 1
	dataCodecV2 = 2
)

// errCodec reports a plaintext that is not a valid encoding.
var errCodec = errors.New("malformed session data")

// appendData appends the encoding of d to b.
func appendData(b []byte, d *Data) []byte {
	start := len(b)
	b = append(b, dataCodecV1)
	b = appendString(b, d.Provider)
	b = appendString(b, d.Issuer)
	b = appendString(b, d.Subject)
	b = appendString(b, d.User.ID)
	b = appendString(b, d.User.Name)
	b = appendString(b, d.User.Email)
	b = appendString(b, d.User.Image)
	b = binary.AppendUvarint(b, uint64(len(d.User.Groups)))
	for _, g := range d.User.Groups {
		b = appendString(b, g)
	}
	b = appendString(b, d.Tokens.IDToken)
	b = appendString(b, d.Tokens.AccessToken)
	b = appendString(b, d.Tokens.RefreshToken)
	b = appendString(b, d.Tokens.TokenType)
	b = appendTime(b, d.Tokens.AccessExpiry)
	b = appendString(b, d.RefreshError)
	b = appendTime(b, d.RefreshedAt)
	if len(d.Claims) > 0 || len(d.Extra) > 0 {
		b[start] = dataCodecV2
		b = appendMap(b, d.Claims)
		b = appendMap(b, d.Extra)
	}
	b = appendUpstreams(b, d.Upstreams) // an extension (codec_upstreams.go)
	b = appendAuthExt(b, d)             // ACR/AuthTime and DPoPKey (codec_upstreams.go)
	return b
}

// appendMap appends m's pairs in key order.
func appendMap(b []byte, m map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b = appendString(b, k)
		b = appendString(b, m[k])
	}
	return b
}

// strMap reads a map written by appendMap; nil when empty.
func (r *dataDecoder) strMap() map[string]string {
	n := r.uvarint()
	if r.err != nil || n == 0 {
		return nil
	}
	if n > uint64(len(r.src)-r.off)/2 { // each pair takes at least two bytes
		r.err = errCodec
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := r.str()
		m[k] = r.str()
	}
	if r.err == nil && uint64(len(m)) != n {
		r.err = errCodec // a repeated key: not appendMap's output
	}
	return m
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// dataDecoder reads the encoding from src, a string holding the whole
// plaintext, so decoded strings share its memory.
type dataDecoder struct {
	src string
	off int
	err error
}

// decodeData decodes plaintext into d.
func decodeData(plaintext []byte, d *Data) error {
	if len(plaintext) == 0 || (plaintext[0] != dataCodecV1 && plaintext[0] != dataCodecV2) {
		return errCodec
	}
	r := dataDecoder{src: string(plaintext), off: 1}
	d.Provider = r.str()
	d.Issuer = r.str()
	d.Subject = r.str()
	d.User.ID = r.str()
	d.User.Name = r.str()
	d.User.Email = r.str()
	d.User.Image = r.str()
	if n := r.uvarint(); n > 0 && r.err == nil {
		if n > uint64(len(r.src)-r.off) { // each group takes at least one byte
			return errCodec
		}
		d.User.Groups = make([]string, n)
		for i := range d.User.Groups {
			d.User.Groups[i] = r.str()
		}
	}
	d.Tokens.IDToken = r.str()
	d.Tokens.AccessToken = r.str()
	d.Tokens.RefreshToken = r.str()
	d.Tokens.TokenType = r.str()
	d.Tokens.AccessExpiry = r.time()
	d.RefreshError = r.str()
	d.RefreshedAt = r.time()
	if plaintext[0] == dataCodecV2 {
		d.Claims = r.strMap()
		d.Extra = r.strMap()
		if r.err == nil && d.Claims == nil && d.Extra == nil {
			return errCodec // version 2 is written only with a map
		}
	}
	r.extensions(d) // codec_upstreams.go
	if r.err != nil || r.off != len(r.src) {
		return errCodec
	}
	return nil
}

func (r *dataDecoder) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	var shift uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if r.off >= len(r.src) {
			break
		}
		c := r.src[r.off]
		r.off++
		if c < 0x80 {
			return v | uint64(c)<<shift
		}
		v |= uint64(c&0x7f) << shift
		shift += 7
	}
	r.err = errCodec
	return 0
}

func (r *dataDecoder) str() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.src)-r.off) {
		r.err = errCodec
		return ""
	}
	s := r.src[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

func (r *dataDecoder) time() time.Time {
	if r.err != nil {
		return time.Time{}
	}
	if r.off >= len(r.src) {
		r.err = errCodec
		return time.Time{}
	}
	flag := r.src[r.off]
	r.off++
	switch flag {
	case 0:
		return time.Time{}
	case 1:
	default:
		r.err = errCodec
		return time.Time{}
	}
	u := r.uvarint()
	sec := int64(u>>1) ^ -int64(u&1) // zig-zag, as binary.AppendVarint
	nsec := r.uvarint()
	if r.err != nil || nsec >= 1e9 {
		r.err = errCodec
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}
