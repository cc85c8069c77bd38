package refresh_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/refresh"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/memstore"
)

// narrowOP is a refresher whose RefreshWith answers what next says, and
// rotates the refresh token on success.
type narrowOP struct {
	mu    sync.Mutex
	calls int
	keys  []*ecdsa.PrivateKey // the DPoP key of each RefreshWith's ctx (nil: none)
	err   error               // the answer; nil: a token, the refresh token rotated
	n     int
}

func (op *narrowOP) Refresh(context.Context, string, *oidc.Claims) (*oidc.Result, error) {
	return nil, errors.New("not used")
}

func (op *narrowOP) RefreshWith(ctx context.Context, rt string, params url.Values) (*oidc.Result, error) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.calls++
	op.keys = append(op.keys, oidc.DPoPKeyFrom(ctx))
	if op.err != nil {
		return nil, op.err
	}
	op.n++
	return &oidc.Result{Tokens: oidc.Tokens{
		AccessToken: "at-" + params.Get("resource") + "-" + string(rune('0'+op.n)), RefreshToken: "rt-" + string(rune('0'+op.n)),
		Expiry: time.Now().Add(time.Hour),
	}}, nil
}

func upstreamFixture(t *testing.T, op *narrowOP) (*session.Manager, *refresh.Coordinator, string, *session.Session) {
	t.Helper()
	mgr := newManager(t, memstore.New(memstore.Options{}))
	co, err := refresh.New(refresh.Options{
		Sessions: mgr,
		Provider: func(id string) (refresh.Provider, bool) { return refresh.Provider{Client: op}, id == "p" },
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, s, err := mgr.Create(context.Background(), session.Data{Provider: "p", Subject: "ada",
		Tokens: session.Tokens{AccessToken: "at", RefreshToken: "rt-0", AccessExpiry: time.Now().Add(time.Hour)}}, session.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return mgr, co, tok, s
}

var grantA = refresh.Grant{Upstream: "a", Params: url.Values{"resource": {"https://a.example"}}}

// TestUpstreamGrantStoredAndRotated: the upstream's token and the rotated
// refresh token are stored; the next call is served from the session.
func TestUpstreamGrantStoredAndRotated(t *testing.T) {
	op := &narrowOP{}
	mgr, co, tok, s := upstreamFixture(t, op)
	at, s2, err := co.Upstream(ctx(t), tok, s, grantA, "")
	if err != nil || at != "at-https://a.example-1" {
		t.Fatalf("Upstream = %q, %v", at, err)
	}
	stored, _ := mgr.LoadFresh(ctx(t), tok)
	if stored.Data.Tokens.RefreshToken != "rt-1" || stored.Data.Upstreams["a"].AccessToken != at || stored.Data.Tokens.AccessToken != "at" {
		t.Fatalf("stored %+v", stored.Data)
	}
	if at2, _, _ := co.Upstream(ctx(t), tok, s2, grantA, ""); at2 != at || op.calls != 1 {
		t.Fatalf("second call: %q after %d grants, want the stored token and one grant", at2, op.calls)
	}
	other := refresh.Grant{Upstream: "a", Params: url.Values{"resource": {"https://other.example"}}}
	if at3, _, _ := co.Upstream(ctx(t), tok, s2, other, ""); at3 == at || op.calls != 2 {
		t.Fatal("a token asked with other parameters was reused")
	}
	if at4, _, _ := co.Upstream(ctx(t), tok, s2, other, "at-https://other.example-2"); at4 == "at-https://other.example-2" || op.calls != 3 {
		t.Fatal("a rejected token was served again")
	}
}

// TestUpstreamGrantErrors: a refused parameter (invalid_target) and an
// outage keep the session and its refresh token; a dead refresh token
// (invalid_grant) ends the session.
func TestUpstreamGrantErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		check func(t *testing.T, err error, s *session.Session, stored *session.Session)
	}{
		{"invalid_target", &oidc.Error{Endpoint: oidc.EndpointToken, Code: "invalid_target", Status: 400}, func(t *testing.T, err error, s, stored *session.Session) {
			if !errors.Is(err, refresh.ErrUpstreamRefused) || stored == nil || stored.Data.Tokens.RefreshToken != "rt-0" {
				t.Fatalf("err %v, stored %v", err, stored)
			}
		}},
		{"outage", &oidc.Error{Endpoint: oidc.EndpointToken, Code: "server_error", Status: 503}, func(t *testing.T, err error, s, stored *session.Session) {
			if !errors.Is(err, session.ErrUnavailable) || stored == nil || stored.Data.Tokens.RefreshToken != "rt-0" {
				t.Fatalf("err %v, stored %v", err, stored)
			}
		}},
		{"invalid_grant", &oidc.Error{Endpoint: oidc.EndpointToken, Code: "invalid_grant", Status: 400}, func(t *testing.T, err error, s, stored *session.Session) {
			if err != nil || s != nil || stored != nil {
				t.Fatalf("err %v, session %v, stored %v: want the session ended", err, s, stored)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := &narrowOP{err: tc.err}
			mgr, co, tok, s := upstreamFixture(t, op)
			_, s2, err := co.Upstream(ctx(t), tok, s, grantA, "")
			stored, _ := mgr.LoadFresh(ctx(t), tok)
			tc.check(t, err, s2, stored)
		})
	}
}

// TestUpstreamGrantDPoP: a DPoP-bound session's narrowing grant is asked
// with a proof of the session's own key (the key in RefreshWith's ctx), as
// its own refresh is; a bearer session's with none.
func TestUpstreamGrantDPoP(t *testing.T) {
	op := &narrowOP{}
	mgr, co, _, _ := upstreamFixture(t, op)
	k, err := oidc.NewDPoPKey()
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := oidc.MarshalDPoPKey(k)
	tok, s, err := mgr.Create(context.Background(), session.Data{Provider: "p", Subject: "ada", DPoPKey: enc,
		Tokens: session.Tokens{AccessToken: "at", RefreshToken: "rt-0", AccessExpiry: time.Now().Add(time.Hour)}}, session.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := co.Upstream(ctx(t), tok, s, grantA, ""); err != nil {
		t.Fatal(err)
	}
	if len(op.keys) != 1 || op.keys[0] == nil || !op.keys[0].Equal(k) {
		t.Fatalf("the narrowing grant's ctx carried DPoP key %v, want the session's", op.keys)
	}
	op2 := &narrowOP{}
	_, co2, tok2, s2 := upstreamFixture(t, op2)
	if _, _, err := co2.Upstream(ctx(t), tok2, s2, grantA, ""); err != nil || len(op2.keys) != 1 || op2.keys[0] != nil {
		t.Fatalf("a bearer session's grant: %v, keys %v", err, op2.keys)
	}
}
