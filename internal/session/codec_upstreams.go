package session

import "encoding/binary"

// extUpstreams tags the Data.Upstreams extension: a uvarint count, then
// for each entry (in name order) the name, AccessToken, Expiry and Params.
const extUpstreams = 'U'

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
