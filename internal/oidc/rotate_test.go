package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
)

// TestSetCredentials: credentials that do not suit the provider's client
// authentication are refused and change nothing; private_key_jwt keeps
// the key that signed until now published behind the new one, until the
// next rotation; the client secret sent is the new one.
func TestSetCredentials(t *testing.T) {
	key := func(kid string) []ClientKey {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		keys, err := ParseClientKeys([]byte(pemKey(t, k, false)), kid)
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	mk := func(style AuthStyle, secret string, keys []ClientKey) *Provider {
		p, err := New(Config{ID: "x", Issuer: "https://op.example", ClientID: "c", ClientSecret: secret, ClientKeys: keys,
			RedirectURL: "http://localhost:3000/api/auth/callback/x", AuthStyle: style})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	post := mk(AuthStylePost, "s1", nil)
	for _, bad := range []struct {
		secret string
		keys   []ClientKey
	}{{"", nil}, {"s2", key("k")}} {
		if err := post.SetCredentials(bad.secret, bad.keys); err == nil {
			t.Errorf("client_secret_post took secret %q and %d keys", bad.secret, len(bad.keys))
		}
	}
	if err := post.SetCredentials("s2", nil); err != nil || post.clientSecret() != "s2" {
		t.Fatalf("client_secret_post rotation: %v, secret sent %q", err, post.clientSecret())
	}
	if err := mk(AuthStyleNone, "", nil).SetCredentials("s", nil); err == nil {
		t.Error("a public client took a secret")
	}
	pk := mk(AuthStylePrivateKeyJWT, "", key("k1"))
	if err := pk.SetCredentials("s", key("k2")); err == nil {
		t.Error("private_key_jwt took a secret")
	}
	if err := pk.SetCredentials("", nil); err == nil {
		t.Error("private_key_jwt took no key")
	}
	kids := func() (out []string) {
		for _, k := range pk.ClientKeys() {
			out = append(out, k.KeyID)
		}
		return out
	}
	if got := kids(); len(got) != 1 || got[0] != "k1" {
		t.Fatalf("refused rotations changed the keys: %v", got)
	}
	for _, step := range []struct{ kid, want string }{{"k2", "k2 k1"}, {"k3", "k3 k2"}, {"k3", "k3"}} {
		if err := pk.SetCredentials("", key(step.kid)); err != nil {
			t.Fatal(err)
		}
		got := ""
		for i, k := range kids() {
			if i > 0 {
				got += " "
			}
			got += k
		}
		if got != step.want {
			t.Fatalf("after rotating to %s the keys are %q, want %q", step.kid, got, step.want)
		}
	}
}
