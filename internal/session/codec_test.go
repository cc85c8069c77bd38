package session

import (
	"reflect"
	"testing"
	"time"
)

func codecSamples() map[string]Data {
	return map[string]Data{
		"zero": {},
		"full": {
			Provider: "cognito", Issuer: "https://issuer", Subject: "sub",
			User: User{ID: "sub", Name: "Ålice ✓", Email: "a@example.com", Image: "https://img", Groups: []string{"a", "", "c"}},
			Tokens: Tokens{
				IDToken: "id", AccessToken: string(make([]byte, 300)), RefreshToken: "r", TokenType: "Bearer",
				AccessExpiry: time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC),
			},
			RefreshError: "RefreshAccessTokenError",
			RefreshedAt:  time.Date(1960, 1, 1, 0, 0, 0, 999999999, time.UTC), // negative Unix time
		},
		"step-up and dpop": {
			Subject: "sub", ACR: "urn:mfa", AuthTime: 1900000000, DPoPKey: "\x30\x81key",
			Claims:    map[string]string{"roles": `["admins"]`},
			Upstreams: map[string]UpstreamToken{"a": {AccessToken: "at-a"}},
		},
		"acr only":  {ACR: "urn:basic"},
		"dpop only": {DPoPKey: "k"},
		"claims and extra": {
			Subject: "sub",
			Claims:  map[string]string{"roles": `["admins"]`, "tenant": `"t1"`},
			Extra:   map[string]string{"theme": `"dark"`},
		},
		"extra only": {Extra: map[string]string{"locale": `"fr"`}},
		// Both extensions of version 1 at once: the version 2 maps, then the
		// tagged upstream tokens.
		"claims, extra and upstreams": {
			Subject: "sub",
			Claims:  map[string]string{"roles": `["admins"]`},
			Extra:   map[string]string{"theme": `"dark"`},
			Upstreams: map[string]UpstreamToken{
				"a": {AccessToken: "at-a", Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Params: "resource=https%3A%2F%2Fa.example"},
				"b": {AccessToken: "at-b"},
			},
		},
		"upstreams only": {Upstreams: map[string]UpstreamToken{"a": {AccessToken: "at-a"}}},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for name, d := range codecSamples() {
		t.Run(name, func(t *testing.T) {
			var got Data
			if err := decodeData(appendData(nil, &d), &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, d) {
				t.Fatalf("round trip = %+v, want %+v", got, d)
			}
		})
	}
	t.Run("non-UTC time decodes as the same instant", func(t *testing.T) {
		at := time.Date(2030, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600))
		var got Data
		if err := decodeData(appendData(nil, &Data{RefreshedAt: at}), &got); err != nil {
			t.Fatal(err)
		}
		if !got.RefreshedAt.Equal(at) {
			t.Fatalf("RefreshedAt = %v, want %v", got.RefreshedAt, at)
		}
	})
}

func TestCodecRejectsMalformed(t *testing.T) {
	d := codecSamples()["full"]
	enc := appendData(nil, &d)
	for i := range enc { // every truncation
		var got Data
		if err := decodeData(enc[:i], &got); err == nil {
			t.Fatalf("decode of %d-byte prefix succeeded", i)
		}
	}
	tests := map[string][]byte{
		"wrong version":   append([]byte{3}, enc[1:]...),
		"trailing byte":   append(append([]byte(nil), enc...), 0),
		"huge length":     {1, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"huge group list": {1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0x03},
		"overlong varint": {1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			var got Data
			if err := decodeData(b, &got); err == nil {
				t.Fatal("decode succeeded")
			}
		})
	}
}

// TestCodecCoversData fails when a field is added to Data, User or Tokens so
// that the codec (appendData/decodeData) gets updated with it.
func TestCodecCoversData(t *testing.T) {
	for typ, n := range map[reflect.Type]int{
		reflect.TypeFor[Data]():   13,
		reflect.TypeFor[User]():   5,
		reflect.TypeFor[Tokens](): 5,
	} {
		if typ.NumField() != n {
			t.Errorf("%s has %d fields, the codec encodes %d: update codec.go", typ, typ.NumField(), n)
		}
	}
}

func FuzzDecodeData(f *testing.F) {
	for _, d := range codecSamples() {
		f.Add(appendData(nil, &d))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Data
		if decodeData(b, &d) != nil {
			return
		}
		var again Data
		if err := decodeData(appendData(nil, &d), &again); err != nil || !reflect.DeepEqual(d, again) {
			t.Fatalf("re-encoding a decoded value does not round trip: %v", err)
		}
	})
}
