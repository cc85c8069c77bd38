package session

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// TestCodecUpstreams: Data.Upstreams round-trips through the extension,
// and a Data without it encodes exactly as version 1 did (the extension
// adds bytes only when used).
func TestCodecUpstreams(t *testing.T) {
	d := codecSamples()["full"]
	plain := appendData(nil, &d)
	if plain[0] != dataCodecV1 {
		t.Fatal("the sample is not a version 1 session")
	}
	d.Upstreams = map[string]UpstreamToken{
		"b": {AccessToken: "tb", Params: "resource=https%3A%2F%2Fb.example"},
		"a": {AccessToken: "ta", Expiry: time.Date(2031, 1, 1, 0, 0, 0, 5, time.UTC)},
	}
	ext := appendData(nil, &d)
	if !bytes.HasPrefix(ext, plain) || len(ext) == len(plain) {
		t.Fatal("the extension changed the version 1 bytes")
	}
	var got Data
	if err := decodeData(ext, &got); err != nil || !reflect.DeepEqual(got, d) {
		t.Fatalf("round trip = %+v, %v", got.Upstreams, err)
	}
	for _, bad := range [][]byte{append(plain, 'U'), append(plain, 'Z', 0), append(bytes.Clone(ext), ext[len(plain):]...)} {
		if decodeData(bad, &Data{}) == nil {
			t.Errorf("decoded a malformed extension %q", bad[len(plain):])
		}
	}
}
