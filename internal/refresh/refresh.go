// Package refresh keeps sessions' access tokens fresh: it refreshes a token
// when it is within a margin of expiry (or when an upstream rejected it),
// with exactly one refresh per session at a time across every instance.
//
// In one process, callers for the same session share one flight
// (singleflight, keyed by session id, behind a per-session mutex). Across
// instances sharing a Redis store, the flight also takes a Redis lock and,
// once it holds it, reloads the session and re-checks it (fencing): when
// another instance has refreshed meanwhile, that result is reused. Instances
// that do not get the lock wait for it to be released (bounded) and reload.
//
// A fatal refresh error (the IdP refuses the refresh token or the client, or
// a refreshed ID token names someone else) ends the session. A transient one
// (network, 5xx, timeout) keeps it, marks it with RefreshError and backs off
// exponentially before the next attempt, so an IdP outage causes no storm.
package refresh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// ErrorCode is the session error shown to the client (session.error) after
// a transient refresh failure; NextAuth's refresh recipe uses the same name.
const ErrorCode = "RefreshAccessTokenError"

// ExpiredCode is the session error (session.error) of a session whose
// access token has expired and cannot be renewed because the provider gave
// no refresh token (see AccessExpired). The user must sign in again.
const ExpiredCode = "AccessTokenExpired"

// Defaults for Options.
const (
	DefaultMargin     = 60 * time.Second
	DefaultLockTTL    = 15 * time.Second
	DefaultWait       = 5 * time.Second
	DefaultFlight     = 10 * time.Second
	DefaultMinBackoff = 5 * time.Second
	DefaultMaxBackoff = 5 * time.Minute
	defaultPoll       = 25 * time.Millisecond
	lockPrefix        = "refresh:"
	maxBackoffEntries = 4096
	flightKeyDue      = "due:"
	flightKeyForced   = "force:"
	idPrefixLen       = 12
)

// Refresher redeems a refresh token; *oidc.Provider implements it.
type Refresher interface {
	Refresh(ctx context.Context, refreshToken string, prev *oidc.Claims) (*oidc.Result, error)
}

// Provider is what a session's provider offers for refreshing.
type Provider struct {
	// Client redeems refresh tokens.
	Client Refresher
	// ClientID is the expected audience of a refreshed ID token.
	ClientID string
	// Issuer, when set, must equal the session's issuer: a refresh token is
	// never sent to an IdP other than the one that issued it (e.g. after a
	// configuration change, or instances that each run their own dev IdP).
	Issuer string
}

// Sessions loads, saves and deletes sessions; *session.Manager implements it.
// Save is conditional on the version the session was loaded at: a session
// ended meanwhile is ErrNotFound, one written meanwhile ErrConflict.
// RevokeToken revokes, in the background, a refresh token that no live
// session holds.
type Sessions interface {
	LoadFresh(ctx context.Context, token string) (*session.Session, error)
	Save(ctx context.Context, token string, s *session.Session) error
	Delete(ctx context.Context, token string) error
	RevokeToken(ctx context.Context, provider, refreshToken string)
}

// Locker is a lock shared by every instance, session.Locker (the public
// store.Locker); *redisstore.Store implements it. Lock tries once;
// WaitUnlocked polls until the lock is free.
type Locker = session.Locker

// Options configure New. Sessions and Provider are required.
type Options struct {
	// Observe, when set, is told of every refresh call to the IdP: the
	// provider id, the result ("ok", "transient" - the session is kept -
	// or "fatal" - the session ends) and how long the call took.
	Observe func(provider, result string, d time.Duration)
	// ObserveUpstream, when set, is told of every grant for an upstream's
	// token: the upstream, the kind ("user"), the result ("ok",
	// "transient", "fatal") and how long it took.
	ObserveUpstream func(upstream, kind, result string, d time.Duration)

	// Sessions is the session manager.
	Sessions Sessions
	// Locker serialises refreshes across instances; nil when one process owns
	// the store (memory, bolt), where the in-process flight is enough.
	Locker Locker
	// Provider returns the refresher of a session's provider id.
	Provider func(id string) (Provider, bool)
	// Margin is how long before expiry a token is refreshed (DefaultMargin
	// when zero).
	Margin time.Duration
	// LockTTL bounds how long one refresh may hold the cross-instance lock.
	LockTTL time.Duration
	// Wait bounds how long an instance waits for another's refresh.
	Wait time.Duration
	// Flight bounds one refresh (store reads, IdP call, store write); it
	// must be shorter than LockTTL.
	Flight time.Duration
	// MinBackoff and MaxBackoff bound the wait after a transient failure.
	MinBackoff, MaxBackoff time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives what happened (never a token); nil discards.
	Logger *slog.Logger
	// Profile, when set, completes the profile of a refresh that brought
	// claims, after the name, email, image and groups are set: prev is the
	// user before, prevClaims the session's extra user fields before (it
	// must not modify that map: assign a new one).
	Profile func(d *session.Data, prev session.User, prevClaims map[string]string, cl *oidc.Claims)
	// Failed, when set, is told of a refresh the IdP refused (fatal: the
	// session ends) or could not answer.
	Failed func(ctx context.Context, s *session.Session, fatal bool)
	// Span, when set, wraps each refresh grant (the IdP call and the
	// session's write): it is given the grant type and returns the context
	// to run under and what to call with the outcome (a tracing span).
	Span func(ctx context.Context, grant string) (context.Context, func(error))
}

// Coordinator refreshes sessions' tokens. It is safe for concurrent use.
type Coordinator struct {
	o       Options
	group   singleflight.Group
	local   keyedMutex
	backoff *backoff
	log     *slog.Logger

	// flights counts refreshes running now; Close waits for them (a refresh
	// cut short could lose a rotated refresh token), and none starts after.
	mu      sync.Mutex
	closed  bool
	flights sync.WaitGroup
}

// ErrClosed is returned by IfDue and Force once Close has been called and
// a refresh would have started. It wraps session.ErrUnavailable: the user
// is still signed in (503, retry), never signed out.
var ErrClosed = fmt.Errorf("refresh: coordinator closed: %w", session.ErrUnavailable)

// Close stops new refreshes and waits for the ones running (each bounded by
// Options.Flight), so that their results are stored or their tokens
// revoked before the session store closes. Calling it again is fine.
func (c *Coordinator) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.flights.Wait()
}

// begin registers a refresh about to run; false once closed.
func (c *Coordinator) begin() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.flights.Add(1)
	return true
}

// New returns a Coordinator for o.
func New(o Options) (*Coordinator, error) {
	if o.Sessions == nil || o.Provider == nil {
		return nil, errors.New("refresh: Sessions and Provider are required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Margin, DefaultMargin)
	def(&o.LockTTL, DefaultLockTTL)
	def(&o.Wait, DefaultWait)
	def(&o.Flight, DefaultFlight)
	def(&o.MinBackoff, DefaultMinBackoff)
	def(&o.MaxBackoff, DefaultMaxBackoff)
	if o.Flight >= o.LockTTL {
		return nil, fmt.Errorf("refresh: Flight (%s) must be shorter than LockTTL (%s)", o.Flight, o.LockTTL)
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Coordinator{
		o: o, log: log,
		local:   keyedMutex{m: map[string]*keyedEntry{}},
		backoff: newBackoff(o.MinBackoff, o.MaxBackoff),
	}, nil
}

// Due reports whether d's access token is within margin of its expiry at
// now. A zero expiry is never due.
func Due(d *session.Data, now time.Time, margin time.Duration) bool {
	exp := d.Tokens.AccessExpiry
	return !exp.IsZero() && !now.Add(margin).Before(exp)
}

// AccessExpired reports whether d's access token has expired at now and
// cannot be renewed: it has a known expiry that is not after now, and d has
// no refresh token. Such a session still names its user, but its access
// token must not be sent anywhere: answer ExpiredCode and ask the user to
// sign in again.
func AccessExpired(d *session.Data, now time.Time) bool {
	exp := d.Tokens.AccessExpiry
	return d.Tokens.RefreshToken == "" && !exp.IsZero() && !now.Before(exp)
}

// IfDue returns s with a usable access token: s itself when the token is not
// due (or cannot be refreshed now: backing off), else the refreshed
// session. Without a refresh token nothing is refreshed and no IdP is
// called; once the access token has expired (AccessExpired) IfDue returns a
// copy of s whose Data.RefreshError is ExpiredCode (not stored: it follows
// from the clock). It returns nil, nil when the session was ended (the IdP
// refused its refresh token); the caller answers "no session" and clears
// the cookie. Store faults come back as errors wrapping
// session.ErrUnavailable.
func (c *Coordinator) IfDue(ctx context.Context, token string, s *session.Session) (*session.Session, error) {
	now := c.o.Now()
	if s.Data.Tokens.RefreshToken == "" {
		if AccessExpired(&s.Data, now) && s.Data.RefreshError != ExpiredCode {
			cp := *s
			cp.Data.RefreshError = ExpiredCode
			return &cp, nil
		}
		return s, nil
	}
	if !Due(&s.Data, now, c.o.Margin) {
		return s, nil
	}
	if c.backoff.waiting(s.ID, c.o.Now()) {
		return s, nil
	}
	return c.flight(ctx, flightKeyDue, token, s, false)
}

// Force refreshes s's tokens whatever their expiry, for when an upstream API
// rejected the access token (HTTP 401). If another caller has already
// replaced that access token, or the tokens were refreshed less than
// MinBackoff ago, the stored session is returned without a new refresh.
// Results are as for IfDue.
func (c *Coordinator) Force(ctx context.Context, token string, s *session.Session) (*session.Session, error) {
	if s.Data.Tokens.RefreshToken == "" || c.backoff.waiting(s.ID, c.o.Now()) {
		return s, nil
	}
	return c.flight(ctx, flightKeyForced, token, s, true)
}

// flight runs (or joins) the one refresh of s in this process and waits for
// it or for ctx. The work runs detached from ctx (bounded by Flight) so that
// one caller giving up does not fail the others.
func (c *Coordinator) flight(ctx context.Context, kind, token string, s *session.Session, force bool) (*session.Session, error) {
	ch := c.group.DoChan(kind+s.ID, func() (any, error) {
		if !c.begin() {
			return nil, ErrClosed
		}
		defer c.flights.Done()
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.o.Flight)
		defer cancel()
		return c.run(fctx, token, s, force)
	})
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("refresh: %w", ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		out, _ := r.Val.(*session.Session)
		if out == nil {
			return nil, nil
		}
		cp := *out // callers may change their copy
		return &cp, nil
	}
}

// shortID identifies a session in logs without revealing its record key.
func shortID(id string) string {
	if len(id) > idPrefixLen {
		return id[:idPrefixLen]
	}
	return id
}
