package session

import (
	"reflect"
	"testing"
)

// TestCodecDecodesVersion1: records sealed before step-up (version 1, no
// ACR or AuthTime) still open, with both empty.
func TestCodecDecodesVersion1(t *testing.T) {
	d := codecSamples()["full"]
	v2 := appendData(nil, &d)
	d.ACR, d.AuthTime, d.DPoPKey = "", 0, ""
	enc := appendData(nil, &d)
	// Version 1 is version 2 without the three trailing fields (empty
	// strings and a zero time: three zero bytes).
	v1 := append([]byte{dataCodecV1}, enc[1:len(enc)-3]...)
	var got Data
	if err := decodeData(v1, &got); err != nil || !reflect.DeepEqual(got, d) {
		t.Fatalf("version 1 decodes to %+v, %v", got, err)
	}
	if err := decodeData(append([]byte{dataCodecV1}, v2[1:]...), &got); err == nil {
		t.Fatal("version 1 with trailing step-up fields decoded")
	}
}
