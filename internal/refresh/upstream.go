package refresh

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"time"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// NarrowRefresher redeems a refresh token for one API's access token
// (resource, scope, audience); *oidc.Provider implements it.
type NarrowRefresher interface {
	RefreshWith(ctx context.Context, refreshToken string, params url.Values) (*oidc.Result, error)
}

// Grant is what an upstream's user token is asked for with.
type Grant struct {
	// Upstream is the upstream's name (the key in session.Data.Upstreams).
	Upstream string
	// Params are the refresh grant's extra parameters (resource, scope,
	// audience).
	Params url.Values
}

// key identifies the parameters: a stored token asked for with others is
// not reused.
func (g Grant) key() string { return g.Params.Encode() }

// ErrUpstreamRefused is returned by Upstream when the provider refuses to
// narrow the grant (invalid_target, invalid_scope...): the session and its
// refresh token are kept; the upstream is not called.
var ErrUpstreamRefused = errors.New("refresh: the provider refused a token for this upstream")

// UpstreamFresh returns s's stored token for g when it is usable at now
// (asked for with g's parameters and not within the margin of expiry).
func (c *Coordinator) UpstreamFresh(s *session.Session, g Grant) (string, bool) {
	t, ok := s.Data.Upstreams[g.Upstream]
	if !ok || t.AccessToken == "" || t.Params != g.key() {
		return "", false
	}
	if !t.Expiry.IsZero() && !c.o.Now().Add(c.o.Margin).Before(t.Expiry) {
		return "", false
	}
	return t.AccessToken, true
}

// Upstream returns an access token for the upstream g names: the one stored
// in the session when fresh, else one obtained with a refresh grant carrying
// g's parameters, stored sealed in the session (with the rotated refresh
// token, if the provider rotated it). force asks for a new one unless
// another caller replaced rejected meanwhile. One grant runs per (session,
// upstream) in the process, and across instances under the session's
// refresh lock (the same lock as the session's own refresh: both may rotate
// the refresh token). It returns "", nil, nil when the session was ended (the
// provider refused the refresh token); ErrUpstreamRefused when the provider
// refused the parameters; store faults and provider outages wrap
// session.ErrUnavailable (the session is kept).
func (c *Coordinator) Upstream(ctx context.Context, token string, s *session.Session, g Grant, rejected string) (string, *session.Session, error) {
	if rejected == "" {
		if at, ok := c.UpstreamFresh(s, g); ok {
			return at, s, nil
		}
	}
	if s.Data.Tokens.RefreshToken == "" {
		return "", s, ErrUpstreamRefused
	}
	if c.backoff.waiting("up:"+g.Upstream+":"+s.ID, c.o.Now()) {
		return "", s, fmt.Errorf("refresh: upstream %s: backing off: %w", g.Upstream, session.ErrUnavailable)
	}
	ch := c.group.DoChan("up:"+g.Upstream+":"+rejectedKey(rejected)+":"+s.ID, func() (any, error) {
		if !c.begin() {
			return nil, ErrClosed
		}
		defer c.flights.Done()
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.o.Flight)
		defer cancel()
		return c.runUpstream(fctx, token, s, g, rejected)
	})
	select {
	case <-ctx.Done():
		return "", s, fmt.Errorf("refresh: %w", ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return "", s, r.Err
		}
		out, _ := r.Val.(*session.Session)
		if out == nil {
			return "", nil, nil
		}
		cp := *out
		return cp.Data.Upstreams[g.Upstream].AccessToken, &cp, nil
	}
}

// runUpstream is one upstream flight: locks, reload, fencing, grant, store.
func (c *Coordinator) runUpstream(ctx context.Context, token string, s *session.Session, g Grant, rejected string) (*session.Session, error) {
	release, err := c.local.lock(ctx, s.ID)
	if err != nil {
		return nil, fmt.Errorf("refresh: %w", err)
	}
	defer release()
	if c.o.Locker != nil {
		name := lockPrefix + s.ID
		unlock, ok, err := c.o.Locker.Lock(ctx, name, c.o.LockTTL)
		if err != nil {
			return nil, fmt.Errorf("refresh: lock: %w", err)
		}
		if !ok {
			wctx, cancel := context.WithTimeout(ctx, c.o.Wait)
			err := c.o.Locker.WaitUnlocked(wctx, name, defaultPoll)
			cancel()
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return nil, fmt.Errorf("refresh: wait for lock: %w", err)
			}
			cur, err := c.reload(ctx, token)
			if cur == nil || err != nil {
				return cur, err
			}
			if _, ok := c.UpstreamFresh(cur, g); ok && cur.Data.Upstreams[g.Upstream].AccessToken != rejected {
				return cur, nil
			}
			// The other holder refreshed something else: take the lock now.
			if unlock, ok, err = c.o.Locker.Lock(ctx, name, c.o.LockTTL); err != nil || !ok {
				return nil, fmt.Errorf("refresh: upstream %s: lock busy: %w", g.Upstream, session.ErrUnavailable)
			}
		}
		defer unlock()
	}
	cur, err := c.reload(ctx, token)
	if cur == nil || err != nil {
		return cur, err
	}
	if at, ok := c.UpstreamFresh(cur, g); ok && at != rejected {
		return cur, nil // another caller or instance got it meanwhile
	}
	return c.grantUpstream(ctx, token, cur, g)
}

// grantUpstream redeems cur's refresh token for g and stores the outcome.
func (c *Coordinator) grantUpstream(ctx context.Context, token string, cur *session.Session, g Grant) (*session.Session, error) {
	log := c.log.With("session", shortID(cur.ID), "provider", cur.Data.Provider, "upstream", g.Upstream)
	p, ok := c.o.Provider(cur.Data.Provider)
	nr, narrow := p.Client.(NarrowRefresher)
	if !ok || !narrow || (p.Issuer != "" && p.Issuer != cur.Data.Issuer) {
		log.WarnContext(ctx, "refresh: no usable provider for the session's upstream token")
		return nil, ErrUpstreamRefused
	}
	used := cur.Data.Tokens.RefreshToken
	start := time.Now()
	// A DPoP-bound session (RFC 9449) asks with a proof of its own key, as
	// its own refresh does (run.go): a provider that requires DPoP for the
	// client refuses a grant without one (oidc-provider: invalid_grant, which
	// would read as a dead refresh token), and one that does not would issue
	// a bearer token to a session whose tokens are all meant to be bound.
	res, err := nr.RefreshWith(oidc.WithDPoPKeyText(ctx, cur.Data.DPoPKey), used, g.Params)
	result := "ok"
	switch {
	case err == nil:
	case oidc.IsTransient(err):
		result = "transient"
	default:
		result = "fatal"
	}
	if c.o.ObserveUpstream != nil {
		c.o.ObserveUpstream(g.Upstream, "user", result, time.Since(start))
	}
	bk := "up:" + g.Upstream + ":" + cur.ID
	if err != nil {
		var te *oidc.Error
		if result == "transient" {
			delay := c.backoff.fail(bk, c.o.Now())
			log.WarnContext(ctx, "refresh: provider unavailable for an upstream token; session kept", "retry_in", delay, "err", err)
			return nil, fmt.Errorf("refresh: upstream %s: %w: %w", g.Upstream, session.ErrUnavailable, err)
		}
		if errors.As(err, &te) && te.Code == "invalid_grant" {
			// The refresh token itself is dead: as for the session's own refresh.
			return c.failedFatal(ctx, token, cur, used, err)
		}
		c.backoff.fail(bk, c.o.Now())
		log.WarnContext(ctx, "refresh: the provider refused the upstream's token parameters; session and refresh token kept", "err", err)
		return nil, fmt.Errorf("%w: %w", ErrUpstreamRefused, err)
	}
	c.backoff.clear(bk)
	newRT := res.Tokens.RefreshToken
	for attempt := 1; ; attempt++ {
		ups := maps.Clone(cur.Data.Upstreams)
		if ups == nil {
			ups = map[string]session.UpstreamToken{}
		}
		ups[g.Upstream] = session.UpstreamToken{AccessToken: res.Tokens.AccessToken, Expiry: res.Tokens.Expiry, Params: g.key()}
		cur.Data.Upstreams = ups
		if newRT != "" {
			cur.Data.Tokens.RefreshToken = newRT
		}
		err := c.o.Sessions.Save(ctx, token, cur)
		if err == nil {
			log.InfoContext(ctx, "refresh: upstream token obtained", "rotated", newRT != used)
			return cur, nil
		}
		if errors.Is(err, session.ErrNotFound) {
			if newRT != used {
				c.orphaned(ctx, cur, newRT, "the session ended while the IdP answered")
			}
			return nil, nil
		}
		if !errors.Is(err, session.ErrConflict) || attempt == maxSaveAttempts {
			log.ErrorContext(ctx, "refresh: upstream token could not be stored", "rotated", newRT != used, "err", err)
			return nil, fmt.Errorf("refresh: store upstream token: %w", err)
		}
		again, err := c.reload(ctx, token)
		if err != nil {
			return nil, err
		}
		if again == nil {
			if newRT != used {
				c.orphaned(ctx, cur, newRT, "the session ended while the IdP answered")
			}
			return nil, nil
		}
		if again.Data.Tokens.RefreshToken != used && newRT != used {
			// Someone else rotated meanwhile (a lost lock): keep theirs, drop ours.
			c.orphaned(ctx, cur, newRT, "another refresh of the session won")
			return nil, fmt.Errorf("refresh: upstream %s: raced: %w", g.Upstream, session.ErrUnavailable)
		}
		cur = again
	}
}

// Results of a grant, as Options.Observe and ObserveUpstream report them.
const (
	ResultOK        = "ok"
	ResultFatal     = "fatal"
	ResultTransient = "transient"
)

// rejectedKey names a rejected token in a flight key without keeping the
// token itself.
func rejectedKey(token string) string {
	if token == "" {
		return ""
	}
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:8])
}
