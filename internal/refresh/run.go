package refresh

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// run is one flight: take the session's locks, reload it, decide whether a
// refresh is still needed, and do it. s is the session as the leading
// caller loaded it.
func (c *Coordinator) run(ctx context.Context, token string, s *session.Session, force bool) (*session.Session, error) {
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
			return c.awaitOther(ctx, token, s, name)
		}
		defer unlock()
	}
	cur, err := c.reload(ctx, token)
	if cur == nil || err != nil {
		return cur, err
	}
	if !c.needed(s, cur, force) {
		return cur, nil
	}
	if c.o.Span != nil {
		ctx, end := c.o.Span(ctx, "refresh_token")
		s, err := c.refresh(ctx, token, cur)
		end(err)
		return s, err
	}
	return c.refresh(ctx, token, cur)
}

// reload reads the current session; a session gone meanwhile is nil, nil.
func (c *Coordinator) reload(ctx context.Context, token string) (*session.Session, error) {
	cur, err := c.o.Sessions.LoadFresh(ctx, token)
	if errors.Is(err, session.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("refresh: reload session: %w", err)
	}
	return cur, nil
}

// needed is the fencing check after taking the locks: has someone else
// already done the work since the caller loaded s?
func (c *Coordinator) needed(s, cur *session.Session, force bool) bool {
	t := cur.Data.Tokens
	if t.RefreshToken == "" || t.AccessToken != s.Data.Tokens.AccessToken {
		return false // nothing to refresh with, or already replaced
	}
	now := c.o.Now()
	if force {
		return cur.Data.RefreshedAt.IsZero() || now.Sub(cur.Data.RefreshedAt) >= c.o.MinBackoff
	}
	return Due(&cur.Data, now, c.o.Margin)
}

// awaitOther waits (at most Wait) while another instance holds the lock,
// then reloads and returns what it left: refreshed, or marked with an error.
func (c *Coordinator) awaitOther(ctx context.Context, token string, s *session.Session, name string) (*session.Session, error) {
	wctx, cancel := context.WithTimeout(ctx, c.o.Wait)
	err := c.o.Locker.WaitUnlocked(wctx, name, defaultPoll)
	cancel()
	if errors.Is(err, session.ErrUnavailable) {
		return nil, fmt.Errorf("refresh: wait for lock: %w", err)
	}
	if err != nil {
		c.log.WarnContext(ctx, "refresh: another instance is still refreshing; using the session as stored",
			"session", shortID(s.ID), "waited", c.o.Wait)
	}
	cur, err := c.reload(ctx, token)
	if cur == nil || err != nil {
		return cur, err
	}
	c.log.DebugContext(ctx, "refresh: used another instance's refresh", "session", shortID(s.ID),
		"replaced", cur.Data.Tokens.AccessToken != s.Data.Tokens.AccessToken)
	if cur.Data.RefreshError != "" && Due(&cur.Data, c.o.Now(), c.o.Margin) {
		c.backoff.note(s.ID, c.o.Now()) // the other instance failed: do not retry at once
	}
	return cur, nil
}

// refresh redeems cur's refresh token and stores the outcome.
func (c *Coordinator) refresh(ctx context.Context, token string, cur *session.Session) (*session.Session, error) {
	log := c.log.With("session", shortID(cur.ID), "provider", cur.Data.Provider)
	p, ok := c.o.Provider(cur.Data.Provider)
	if !ok {
		log.WarnContext(ctx, "refresh: the session's provider is no longer configured; tokens left as they are")
		return cur, nil
	}
	if p.Issuer != "" && p.Issuer != cur.Data.Issuer {
		log.WarnContext(ctx, "refresh: the session comes from another issuer than the configured one; tokens left as they are",
			"session_issuer", cur.Data.Issuer, "configured_issuer", p.Issuer)
		return cur, nil
	}
	used := cur.Data.Tokens.RefreshToken
	u := cur.Data.User
	prev := &oidc.Claims{
		Issuer: cur.Data.Issuer, Subject: cur.Data.Subject, Audience: []string{p.ClientID},
		Name: u.Name, Email: u.Email, Picture: u.Image, Groups: u.Groups,
	}
	start := time.Now()
	res, err := p.Client.Refresh(oidc.WithDPoPKeyText(ctx, cur.Data.DPoPKey), used, prev)
	if c.o.Observe != nil {
		result := "fatal"
		switch {
		case err == nil:
			result = "ok"
		case oidc.IsTransient(err):
			result = "transient"
		}
		c.o.Observe(cur.Data.Provider, result, time.Since(start))
	}
	switch {
	case err == nil:
		return c.succeeded(ctx, token, cur, res)
	case oidc.IsTransient(err):
		c.failed(ctx, cur, false)
		return c.failedTransient(ctx, token, cur, err)
	default:
		c.failed(ctx, cur, true)
		return c.failedFatal(ctx, token, cur, used, err)
	}
}

// maxSaveAttempts bounds how often a refresh's outcome is re-applied to a
// session that another write changed meanwhile (an expiry extension, another
// tab's update).
const maxSaveAttempts = 3

// succeeded stores the new tokens (a new refresh token only when the IdP
// rotated it; oidc.Refresh keeps the old one otherwise) and the profile
// oidc.Refresh worked out (the new claims completed from userinfo and the
// session's previous profile), and clears any error. The write is
// conditional: if the session ended while the IdP answered, nothing is
// written, the new refresh token is revoked and the answer is "signed out"
// (nil, nil); if another write came first, the outcome is applied again to
// the session as it now is, unless that write already replaced the refresh
// token (another refresh won: its tokens stay, ours are revoked).
func (c *Coordinator) succeeded(ctx context.Context, token string, cur *session.Session, res *oidc.Result) (*session.Session, error) {
	used := cur.Data.Tokens.RefreshToken
	newRT := res.Tokens.RefreshToken
	if newRT == "" {
		newRT = used
	}
	rotated := newRT != used
	for attempt := 1; ; attempt++ {
		c.apply(cur, res)
		err := c.o.Sessions.Save(ctx, token, cur)
		if err == nil {
			break
		}
		if errors.Is(err, session.ErrNotFound) {
			c.orphaned(ctx, cur, newRT, "the session ended while the IdP answered")
			return nil, nil
		}
		if !errors.Is(err, session.ErrConflict) || attempt == maxSaveAttempts {
			c.log.ErrorContext(ctx, "refresh: new tokens could not be stored", "session", shortID(cur.ID),
				"rotated", rotated, "err", err)
			return nil, fmt.Errorf("refresh: store new tokens: %w", err)
		}
		again, err := c.reload(ctx, token)
		if err != nil {
			return nil, err
		}
		if again == nil {
			c.orphaned(ctx, cur, newRT, "the session ended while the IdP answered")
			return nil, nil
		}
		if again.Data.Tokens.RefreshToken != used {
			if rotated && again.Data.Tokens.RefreshToken != newRT {
				c.orphaned(ctx, cur, newRT, "another refresh of the session won")
			}
			return again, nil
		}
		cur = again
	}
	c.backoff.clear(cur.ID)
	c.log.InfoContext(ctx, "refresh: tokens refreshed", "session", shortID(cur.ID),
		"rotated", rotated, "expires_in", cur.Data.Tokens.AccessExpiry.Sub(c.o.Now()).Round(1e9))
	return cur, nil
}

// apply puts a refresh's outcome into s.
func (c *Coordinator) apply(s *session.Session, res *oidc.Result) {
	t := &s.Data.Tokens
	t.AccessToken, t.AccessExpiry = res.Tokens.AccessToken, res.Tokens.Expiry
	if res.Tokens.RefreshToken != "" {
		t.RefreshToken = res.Tokens.RefreshToken
	}
	if res.Tokens.TokenType != "" {
		t.TokenType = res.Tokens.TokenType
	}
	if res.Tokens.IDToken != "" {
		t.IDToken = res.Tokens.IDToken
	}
	if cl := res.Claims; cl != nil {
		u := &s.Data.User
		prev := *u
		u.Name, u.Email, u.Image, u.Groups = cl.DisplayName(), cl.Email, cl.Picture, cl.Groups
		if c.o.Profile != nil {
			c.o.Profile(&s.Data, prev, s.Data.Claims, cl)
		}
	}
	s.Data.RefreshError = ""
	s.Data.RefreshedAt = c.o.Now()
}

// orphaned revokes a refresh token that no live session holds any more.
func (c *Coordinator) orphaned(ctx context.Context, s *session.Session, refreshToken, why string) {
	c.backoff.clear(s.ID)
	c.log.WarnContext(ctx, "refresh: "+why+"; the new tokens are dropped and the refresh token revoked",
		"session", shortID(s.ID), "provider", s.Data.Provider)
	c.o.Sessions.RevokeToken(ctx, s.Data.Provider, refreshToken)
}

// failedTransient keeps the session, marks it and backs off. A session
// ended meanwhile stays ended (nil, nil); one written meanwhile is returned
// as it now is, unmarked.
func (c *Coordinator) failedTransient(ctx context.Context, token string, cur *session.Session, cause error) (*session.Session, error) {
	delay := c.backoff.fail(cur.ID, c.o.Now())
	c.log.WarnContext(ctx, "refresh: IdP unavailable; keeping the session and retrying later",
		"session", shortID(cur.ID), "retry_in", delay.Round(1e6), "err", cause)
	if cur.Data.RefreshError == ErrorCode {
		return cur, nil
	}
	cur.Data.RefreshError = ErrorCode
	err := c.o.Sessions.Save(ctx, token, cur)
	switch {
	case errors.Is(err, session.ErrNotFound):
		c.backoff.clear(cur.ID)
		return nil, nil
	case errors.Is(err, session.ErrConflict):
		return c.reload(ctx, token)
	case err != nil:
		return nil, fmt.Errorf("refresh: mark refresh error: %w", err)
	}
	return cur, nil
}

// failedFatal ends the session: its refresh token (or client) is dead, or
// the IdP now names someone else. If the stored refresh token changed while
// we were asking (another instance rotated it after a lost lock), the
// rejection is about the old token and the stored session is kept.
func (c *Coordinator) failedFatal(ctx context.Context, token string, cur *session.Session, used string, cause error) (*session.Session, error) {
	again, err := c.reload(ctx, token)
	if err != nil {
		return nil, err
	}
	if again != nil && again.Data.Tokens.RefreshToken != used {
		return again, nil
	}
	c.backoff.clear(cur.ID)
	reason := "refused"
	var te *oidc.Error
	if errors.As(cause, &te) {
		reason = te.Code
	} else if errors.Is(cause, oidc.ErrInvalidIDToken) {
		reason = "invalid_id_token"
	}
	if err := c.o.Sessions.Delete(ctx, token); err != nil {
		return nil, fmt.Errorf("refresh: end session after %s: %w", reason, err)
	}
	c.log.WarnContext(ctx, "refresh: the IdP refused the refresh; session ended",
		"session", shortID(cur.ID), "provider", cur.Data.Provider, "reason", reason, "err", cause)
	return nil, nil
}

// failed tells Options.Failed of a failed refresh.
func (c *Coordinator) failed(ctx context.Context, s *session.Session, fatal bool) {
	if c.o.Failed != nil {
		c.o.Failed(ctx, s, fatal)
	}
}
