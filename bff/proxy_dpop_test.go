package bff

import (
	"context"
	"crypto"
	"log/slog"
	"testing"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// TestUpstreamDPoPKeyPerPolicy: which key a token policy's token is sent
// with. A DPoP-bound session's user token (user; user-or-client signed in)
// with the session's key; a client token (client; user-or-client signed
// out) with the instance's key at a DPoP provider, bearer at another;
// none and a bearer session's token with none.
func TestUpstreamDPoPKeyPerPolicy(t *testing.T) {
	bf, err := New(context.Background(), Options{
		URL: "http://localhost:3000", StoreSpec: "memory", DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler),
		Secrets: []string{"0123456789abcdef0123456789abcdef"}, Upstreams: map[string]string{"a": "http://127.0.0.1:1"},
		Providers: []Provider{
			{ID: "okta", Issuer: "https://idp.example", ClientID: "x", ClientSecret: "y", DPoP: true},
			{ID: "plain", Issuer: "https://plain.example", ClientID: "x", ClientSecret: "y"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bf.Close() })
	k, _ := oidc.NewDPoPKey()
	enc, _ := oidc.MarshalDPoPKey(k)
	bound := &session.Session{Data: session.Data{Provider: "okta", DPoPKey: enc}}
	bearer := &session.Session{Data: session.Data{Provider: "plain"}}
	instance := bf.clientDPoP("okta")
	if instance == nil || instance.Equal(k) || bf.clientDPoP("okta") != instance || bf.clientDPoP("plain") != nil {
		t.Fatal("clientDPoP: want one instance key for a DPoP provider, none for another")
	}
	pol := func(token UpstreamToken, provider string) *upstreamPolicy {
		return &upstreamPolicy{name: "a", token: token, provider: provider}
	}
	for _, tc := range []struct {
		name string
		pol  *upstreamPolicy
		s    *session.Session
		want any // *ecdsa.PrivateKey equal to k / instance, or nil
	}{
		{"user, bound", pol(UpstreamTokenUser, ""), bound, k},
		{"user, bearer", pol(UpstreamTokenUser, ""), bearer, nil},
		{"user-or-client, signed in", pol(UpstreamTokenUserOrClient, ""), bound, k},
		{"user-or-client, signed out", pol(UpstreamTokenUserOrClient, ""), nil, instance},
		{"user-or-client, signed out, plain provider", pol(UpstreamTokenUserOrClient, "plain"), nil, nil},
		{"client", pol(UpstreamTokenClient, ""), bound, instance},
		{"client, plain provider", pol(UpstreamTokenClient, "plain"), bound, nil},
		{"none", pol(UpstreamTokenNone, ""), bound, nil},
	} {
		got := bf.upstreamDPoP(tc.pol, tc.s)
		switch want := tc.want.(type) {
		case nil:
			if got != nil {
				t.Errorf("%s: a key, want bearer", tc.name)
			}
		default:
			if w, _ := want.(interface{ Equal(crypto.PrivateKey) bool }); got == nil || w == nil || !w.Equal(got) {
				t.Errorf("%s: key %v, want %v", tc.name, got != nil, want)
			}
		}
	}
}
