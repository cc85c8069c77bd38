package session

import (
	"encoding/binary"
	"time"
)

// extUpstreams tags the Data.Upstreams extension: a uvarint count, then
// for each entry (in name order) the name, AccessToken, Expiry and Params.
const extUpstreams = 'U'

// extAuth tags the step-up extension: ACR, then AuthTime as a time (the
// zero time for 0). extDPoP tags the DPoP key extension: DPoPKey. Each is
// written only when its fields are set, so a session without them keeps
// the bytes it had before they existed.
const (
	extAuth = 'A'
	extDPoP = 'K'
)

// appendAuthExt appends the step-up and DPoP extensions (nothing when
// their fields are empty).
func appendAuthExt(b []byte, d *Data) []byte {
	if d.ACR != "" || d.AuthTime != 0 {
		b = append(b, extAuth)
		b = appendString(b, d.ACR)
		var t time.Time
		if d.AuthTime != 0 {
			t = time.Unix(d.AuthTime, 0)
		}
		b = appendTime(b, t)
	}
	if d.DPoPKey != "" {
		b = append(b, extDPoP)
		b = appendString(b, d.DPoPKey)
	}
	return b
}

// appendUpstreams appends the Upstreams extension (nothing when empty).
func appendUpstreams(b []byte, ups map[string]UpstreamToken) []byte {
	if len(ups) == 0 {
		return b
	}
	names := make([]string, 0, len(ups))
	for n := range ups {
		names = append(names, n)
	}
	sortStrings(names)
	b = append(b, extUpstreams)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, n := range names {
		t := ups[n]
		b = appendString(b, n)
		b = appendString(b, t.AccessToken)
		b = appendTime(b, t.Expiry)
		b = appendString(b, t.Params)
	}
	return b
}

// extensions decodes the extensions after the version 1 fields.
func (r *dataDecoder) extensions(d *Data) {
	var seen uint8 // extAuth 1, extDPoP 2
	for r.err == nil && r.off < len(r.src) {
		tag := r.src[r.off]
		r.off++
		switch tag {
		case extUpstreams:
			if d.Upstreams != nil {
				r.err = errCodec // twice
				return
			}
			n := r.uvarint()
			if r.err != nil || n == 0 || n > uint64(len(r.src)-r.off) {
				r.err = errCodec
				return
			}
			d.Upstreams = make(map[string]UpstreamToken, n)
			for range n {
				name := r.str()
				t := UpstreamToken{AccessToken: r.str(), Expiry: r.time(), Params: r.str()}
				if _, dup := d.Upstreams[name]; dup {
					r.err = errCodec
					return
				}
				d.Upstreams[name] = t
			}
		case extAuth:
			if seen&1 != 0 {
				r.err = errCodec // twice
				return
			}
			seen |= 1
			d.ACR = r.str()
			if t := r.time(); !t.IsZero() {
				d.AuthTime = t.Unix()
				if t.Nanosecond() != 0 || d.AuthTime == 0 {
					r.err = errCodec // appendAuthExt never writes these
					return
				}
			}
			if r.err == nil && d.ACR == "" && d.AuthTime == 0 {
				r.err = errCodec // written only when set
				return
			}
		case extDPoP:
			if seen&2 != 0 {
				r.err = errCodec
				return
			}
			seen |= 2
			if d.DPoPKey = r.str(); r.err == nil && d.DPoPKey == "" {
				r.err = errCodec
				return
			}
		default:
			r.err = errCodec
		}
	}
}

// sortStrings sorts s (insertion sort: a handful of upstreams).
func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
