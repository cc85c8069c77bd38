package session

import (
	"bytes"
	"reflect"
	"testing"
)

// TestCodecStepUpExtensions: ACR/AuthTime and DPoPKey are tagged
// extensions written only when set, so a session without them keeps its
// version 1 bytes (records sealed before step-up and DPoP still open, and
// an older binary still reads new sessions that use neither); with them
// they round-trip, and a repeated, empty or truncated extension is refused.
func TestCodecStepUpExtensions(t *testing.T) {
	d := codecSamples()["full"]
	plain := appendData(nil, &d)
	if plain[0] != dataCodecV1 {
		t.Fatalf("a session without the new fields is written as version %d", plain[0])
	}
	d.ACR, d.AuthTime, d.DPoPKey = "urn:mfa", 1900000000, "der"
	ext := appendData(nil, &d)
	if !bytes.HasPrefix(ext, plain) || len(ext) == len(plain) {
		t.Fatal("the extensions changed the version 1 bytes")
	}
	var got Data
	if err := decodeData(ext, &got); err != nil || !reflect.DeepEqual(got, d) {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	tail := ext[len(plain):]
	for name, bad := range map[string][]byte{
		"repeated":  append(bytes.Clone(ext), tail...),
		"empty acr": append(bytes.Clone(plain), extAuth, 0, 0),
		"empty key": append(bytes.Clone(plain), extDPoP, 0),
		"truncated": ext[:len(ext)-1],
	} {
		if decodeData(bad, &Data{}) == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
