package nextauth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/authbff/authbff/internal/refresh"
	"github.com/authbff/authbff/internal/session"
)

// Hooks are the host's callbacks (NextAuth's callbacks.signIn and
// callbacks.session) and event listener (NextAuth's events). Each runs in
// every instance the same way; a panic in one is recovered and logged as an
// error, never a crash.
type Hooks struct {
	// SignIn runs at the callback once the ID token is checked and the
	// sign-in policy passed, before the session exists. It sees the
	// provider, the profile and the claims (never a token). It returns the
	// fields to add to session.user (kept for the session's life; reserved
	// names are skipped) and whether the user may sign in: false gives the
	// AccessDenied page and creates no session. An error or a panic refuses
	// the sign-in too.
	SignIn func(ctx context.Context, in SignInInfo) (fields map[string]any, allow bool, err error)
	// Session runs on every session read (GET/POST /session) with the
	// stored (usually cached) session and returns fields to add at the top
	// level of the session JSON (never replacing its own fields or
	// update()'s keys). It is on the hot path: keep it cheap (no I/O). A
	// panic adds nothing.
	Session func(ctx context.Context, s SessionView) map[string]any
	// Event is told what happened: signed in, signed out, session ended
	// (and why), refresh failed. It runs in the request's goroutine: queue
	// slow work. A panic is logged.
	Event func(ctx context.Context, e Event)
}

// SignInInfo is what the sign-in hook sees.
type SignInInfo struct {
	// Provider is the provider id.
	Provider string
	// User is the profile the session gets (ID is the subject).
	User session.User
	// Claims are the ID token's (and userinfo's) claims as decoded JSON.
	Claims map[string]any
}

// SessionView is what the session hook sees: the stored session, no token.
type SessionView struct {
	// Provider is the provider id; Subject the user's id there.
	Provider, Subject string
	// User is the profile.
	User session.User
	// Claims are session.user's extra fields, Extra update()'s keys (JSON
	// text each).
	Claims, Extra map[string]string
}

// EventKind names an event.
type EventKind string

// The events.
const (
	EventSignedIn      EventKind = "signed_in"
	EventSignedOut     EventKind = "signed_out"
	EventSessionEnded  EventKind = "session_ended"
	EventRefreshFailed EventKind = "refresh_failed"
)

// Event is one event: who, which session (a short id prefix) and why.
type Event struct {
	Kind     EventKind
	Provider string
	Subject  string
	// Session is the first 12 hex digits of the session id.
	Session string
	// Reason says why a session ended ("backchannel_logout",
	// "refresh_refused", "revoked", "per_user_cap") or a refresh failed
	// ("transient", "refused").
	Reason string
}

// emit tells the event hook, recovering a panic.
func (c *Core) emit(ctx context.Context, e Event) {
	h := c.cfg.Hooks.Event
	if h == nil {
		return
	}
	defer c.recoverHook("event", nil)
	h(ctx, e)
}

// Emit tells the event hook of e (for the adapters' own session ends).
func (c *Core) Emit(ctx context.Context, e Event) { c.emit(ctx, e) }

// EmitEnded tells the event hook of a session the Manager ended by itself
// (session.ManagerOptions.Ended): a session_ended event with its reason.
func (c *Core) EmitEnded(ctx context.Context, e session.Ended) {
	c.emit(ctx, Event{Kind: EventSessionEnded, Provider: e.Provider, Subject: e.Subject, Session: shortSID(e.ID), Reason: e.Reason})
}

// recoverHook logs a hook's panic; err, when set, receives it as an error.
func (c *Core) recoverHook(name string, err *error) {
	if v := recover(); v != nil {
		c.log.Error("hook panicked (recovered)", "hook", name, "panic", fmt.Sprint(v))
		if err != nil {
			*err = fmt.Errorf("%s hook panicked: %v", name, v)
		}
	}
}

// runSignInHook runs the sign-in hook on the session data about to be
// created: false refuses the sign-in.
func (c *Core) runSignInHook(ctx context.Context, log *slog.Logger, d *session.Data, claims map[string]any) (allow bool) {
	h := c.cfg.Hooks.SignIn
	if h == nil {
		return true
	}
	var fields map[string]any
	var err error
	func() {
		defer c.recoverHook("sign-in", &err)
		fields, allow, err = h(ctx, SignInInfo{Provider: d.Provider, User: d.User, Claims: maps.Clone(claims)})
	}()
	if err != nil {
		log.Error("sign-in hook failed: sign-in refused", "provider", d.Provider, "err", err)
		return false
	}
	if !allow {
		return false
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		b, err := json.Marshal(fields[k])
		if slices.Contains(ReservedUserFields, k) || err != nil || len(b) > MaxClaimValue {
			log.Warn("sign-in hook field skipped (reserved, not JSON or too long)", "field", k)
			continue
		}
		if d.Claims == nil {
			d.Claims = map[string]string{}
		}
		d.Claims[k] = string(b)
	}
	return true
}

// withSessionHook adds the session hook's fields to the session JSON js.
func (c *Core) withSessionHook(ctx context.Context, js []byte, s *session.Session) []byte {
	h := c.cfg.Hooks.Session
	if h == nil {
		return js
	}
	var fields map[string]any
	func() {
		defer c.recoverHook("session", nil)
		fields = h(ctx, SessionView{
			Provider: s.Data.Provider, Subject: s.Data.Subject, User: s.Data.User,
			Claims: s.Data.Claims, Extra: s.Data.Extra,
		})
	}()
	if len(fields) == 0 {
		return js
	}
	kv := make([][2]string, 0, len(fields))
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if _, stored := s.Data.Extra[k]; stored || slices.Contains(ReservedSessionFields, k) {
			continue // the session JSON's own fields and update()'s keys are never replaced
		}
		if b, err := json.Marshal(fields[k]); err == nil {
			kv = append(kv, [2]string{k, string(b)})
		}
	}
	return splice(js, kv)
}

// refreshHooks wires the session shaping and the events into the refresh
// coordinator's options, only when configured.
func (c *Core) refreshHooks(o *refresh.Options) {
	if c.shapesSession() {
		o.Profile = c.refreshedProfile
	}
	if c.cfg.Hooks.Event != nil {
		o.Failed = func(ctx context.Context, s *session.Session, fatal bool) {
			e := Event{Kind: EventRefreshFailed, Provider: s.Data.Provider, Subject: s.Data.Subject, Session: shortSID(s.ID), Reason: "transient"}
			if fatal {
				e.Reason = "refused"
			}
			c.emit(ctx, e)
			if fatal {
				e.Kind, e.Reason = EventSessionEnded, "refresh_refused"
				c.emit(ctx, e)
			}
		}
	}
}

// shortSID is the logged prefix of a session id.
func shortSID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
