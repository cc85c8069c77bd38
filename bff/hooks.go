package bff

import (
	"context"
	"encoding/json"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/session"
)

// The Go hooks: NextAuth's callbacks and events for a host program. Each
// runs in every instance the same way (they see only what the shared store
// holds), and a panic in one is recovered and logged as an error: the
// process never crashes over a hook.

// SignInInfo is what the sign-in hook sees: never a token.
type SignInInfo struct {
	// Provider is the provider id ("cognito").
	Provider string
	// User is the profile the session is about to get (Sub, Name, Email,
	// Image, Groups; Fields are SessionClaims' fields).
	User User
	// Claims are the ID token's claims (completed from userinfo) as
	// decoded JSON, numbers as json.Number.
	Claims map[string]any
}

// SignInResult is the sign-in hook's decision.
type SignInResult struct {
	// Deny refuses the sign-in: the user lands on NextAuth's AccessDenied
	// page and no session is created.
	Deny bool
	// UserFields are added to session.user for the session's life (JSON
	// values, 1 KiB each; id, name, email, image and groups are skipped).
	UserFields map[string]any
}

// SignInHook is NextAuth's callbacks.signIn: it runs at the callback after
// the ID token and the sign-in policy (AllowedGroups, AllowedEmailDomains)
// passed, before the session exists. An error (or a panic) refuses the
// sign-in like Deny, and is logged.
type SignInHook func(ctx context.Context, in SignInInfo) (SignInResult, error)

// SessionInfo is what the session hook sees: the stored session, no token.
type SessionInfo struct {
	// User is the signed-in user (Fields: session.user's extra fields).
	User User
	// Data are the keys update() stored (JSON values).
	Data map[string]json.RawMessage
}

// SessionHook is NextAuth's callbacks.session: the fields it returns are
// added at the top level of the session JSON (the session JSON's own
// fields and update()'s stored keys are never replaced). It runs on EVERY session read (GET and
// POST /session), on the cached session: it is on the hot path, so keep it
// cheap and free of I/O. A panic adds nothing and is logged.
type SessionHook func(ctx context.Context, s SessionInfo) map[string]any

// EventKind names an event.
type EventKind string

// The events (NextAuth's events.signIn, signOut, and authbff's own).
const (
	EventSignedIn      EventKind = EventKind(nextauth.EventSignedIn)
	EventSignedOut     EventKind = EventKind(nextauth.EventSignedOut)
	EventSessionEnded  EventKind = EventKind(nextauth.EventSessionEnded)
	EventRefreshFailed EventKind = EventKind(nextauth.EventRefreshFailed)
)

// Event is one event for an audit log: never a token.
type Event struct {
	Kind EventKind
	// Provider and Sub name the user.
	Provider, Sub string
	// Session is the session id's first 12 hex digits (as in the logs).
	Session string
	// Reason says why a session ended (backchannel_logout,
	// refresh_refused, revoked, per_user_cap - a newer sign-in of the same
	// user went past SessionMaxPerUser) or a refresh failed (transient,
	// refused). A session that expires (SessionMaxAge unused, or its
	// SessionAbsoluteMaxAge reached) makes no event.
	Reason string
}

// EventHook receives events (NextAuth's events): signed in, signed out,
// session ended and why, refresh failed. It runs in the request's
// goroutine: hand slow work to a queue. A panic is logged.
type EventHook func(ctx context.Context, e Event)

// userOf is the public view of a stored user.
func userOf(provider, sub string, u session.User, claims map[string]string) User {
	out := User{Sub: sub, Provider: provider, Name: u.Name, Email: u.Email, Image: u.Image,
		Groups: append([]string(nil), u.Groups...)}
	if len(claims) > 0 {
		out.Fields = rawMap(claims)
	}
	return out
}

// rawMap turns stored JSON texts into RawMessages.
func rawMap(m map[string]string) map[string]json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = json.RawMessage(v)
	}
	return out
}

// hooks maps the Options' hooks to the core's.
func (o Options) hooks() nextauth.Hooks {
	var h nextauth.Hooks
	if f := o.OnSignIn; f != nil {
		h.SignIn = func(ctx context.Context, in nextauth.SignInInfo) (map[string]any, bool, error) {
			res, err := f(ctx, SignInInfo{Provider: in.Provider, User: userOf(in.Provider, in.User.ID, in.User, nil), Claims: in.Claims})
			return res.UserFields, !res.Deny, err
		}
	}
	if f := o.OnSession; f != nil {
		h.Session = func(ctx context.Context, s nextauth.SessionView) map[string]any {
			return f(ctx, SessionInfo{User: userOf(s.Provider, s.Subject, s.User, s.Claims), Data: rawMap(s.Extra)})
		}
	}
	if f := o.OnEvent; f != nil {
		h.Event = func(ctx context.Context, e nextauth.Event) {
			f(ctx, Event{Kind: EventKind(e.Kind), Provider: e.Provider, Sub: e.Subject, Session: e.Session, Reason: e.Reason})
		}
	}
	return h
}
