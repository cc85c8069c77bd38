package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

var (
	// errUnknownKey means no published key matches the token's header.
	errUnknownKey = errors.New("no matching key in the provider's jwks")
	// errJWKSFetch means the JWKS could not be fetched or parsed.
	errJWKSFetch = errors.New("jwks fetch failed")
)

// keySet caches the provider's JWKS. The first lookup fetches it; a lookup
// for an unknown kid refetches it, at most once per jwksRefetchPeriod, so a
// stream of forged tokens cannot turn into a stream of JWKS requests.
//
// It is a small hand-rolled cache rather than jwk.Cache because jwk.Cache
// runs a background goroutine bound to a context and a wall clock; this one
// has no goroutine and uses the Provider's injected clock.
type keySet struct {
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	mu          sync.Mutex
	uri         string
	set         jwk.Set
	lastRefetch time.Time // last fetch triggered by an unknown key
	fetches     int
}

func (k *keySet) setURI(uri string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.uri = uri
}

// key returns the public key for a token header (kid may be empty) and alg.
func (k *keySet) key(ctx context.Context, kid, alg string) (jwk.Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.set == nil {
		if err := k.fetch(ctx); err != nil {
			return nil, err
		}
	}
	key, err := pickKey(k.set, kid, alg)
	if !errors.Is(err, errUnknownKey) {
		return key, err
	}
	now := k.now()
	if !k.lastRefetch.IsZero() && now.Sub(k.lastRefetch) < jwksRefetchPeriod {
		return nil, fmt.Errorf("%w (kid %q; refetch rate-limited)", err, kid)
	}
	k.lastRefetch = now
	k.log.InfoContext(ctx, "oidc: unknown signing key, refetching jwks", "kid", kid)
	if err := k.fetch(ctx); err != nil {
		return nil, err
	}
	return pickKey(k.set, kid, alg)
}

func (k *keySet) fetch(ctx context.Context) error {
	if err := k.doFetch(ctx); err != nil {
		return fmt.Errorf("%w: %w", errJWKSFetch, err)
	}
	return nil
}

func (k *keySet) doFetch(ctx context.Context) error {
	if k.uri == "" {
		return errors.New("jwks: no jwks_uri")
	}
	k.fetches++
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.uri, nil)
	if err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return fmt.Errorf("jwks: get: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("jwks: read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("jwks: %w", &httpStatusError{URL: req.URL.Redacted(), Status: resp.StatusCode})
	}
	set, err := jwk.Parse(body)
	if err != nil {
		return fmt.Errorf("jwks: parse: %w", err)
	}
	k.set = set
	return nil
}

// pickKey finds the key for kid (or, without kid, the single key that fits alg).
func pickKey(set jwk.Set, kid, alg string) (jwk.Key, error) {
	var found []jwk.Key
	for i := 0; i < set.Len(); i++ {
		key, ok := set.Key(i)
		if !ok {
			continue
		}
		if kid != "" && key.KeyID() != kid {
			continue
		}
		if !keyFits(key, alg) {
			continue
		}
		found = append(found, key)
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) == 0:
		return nil, fmt.Errorf("%w (kid %q, alg %s)", errUnknownKey, kid, alg)
	case kid == "":
		return nil, fmt.Errorf("token has no kid and %d keys fit alg %s", len(found), alg)
	default:
		return nil, fmt.Errorf("%d keys share kid %q", len(found), kid)
	}
}

// keyFits reports whether key may verify alg: a signing key of the matching
// type whose own "alg", when present, is alg.
func keyFits(key jwk.Key, alg string) bool {
	if u := key.KeyUsage(); u != "" && u != string(jwk.ForSignature) {
		return false
	}
	if a := key.Algorithm(); a != nil && a.String() != "" && a.String() != alg {
		return false
	}
	want := jwa.RSA
	switch alg[:2] {
	case "ES":
		want = jwa.EC
	case "Ed":
		want = jwa.OKP
	}
	return key.KeyType() == want
}
