package nextauth

import (
	"context"

	"github.com/authbff/authbff/internal/session"
)

// PublicIDLen is how many hex characters of a record id the sessions API
// shows: enough to name a session among a user's few, never the whole store
// key (itself only a hash of the cookie token, but no need to show it).
const PublicIDLen = 16

// SessionInfo is one entry of GET /sessions. It holds no secret.
type SessionInfo struct {
	ID        string `json:"id"`
	Created   string `json:"created"`
	LastSeen  string `json:"lastSeen"`
	Expires   string `json:"expires"`
	UserAgent string `json:"userAgent,omitempty"`
	Current   bool   `json:"current"`
}

// ListSessions returns the signed-in user's live sessions, most recently
// used first, s (the request's own) marked current.
func (c *Core) ListSessions(ctx context.Context, s *session.Session) ([]SessionInfo, error) {
	list, err := c.sessions.List(ctx, s.UserKey)
	if err != nil {
		return nil, storeErr(err)
	}
	out := make([]SessionInfo, 0, len(list))
	for _, in := range list {
		out = append(out, SessionInfo{
			ID: in.ID[:PublicIDLen], Created: JSTime(in.Created), LastSeen: JSTime(in.LastSeen),
			Expires: JSTime(in.Expires), UserAgent: in.UserAgent, Current: in.ID == s.ID,
		})
	}
	return out, nil
}

// EndSession is DELETE /sessions/:id: it ends one of the user's own
// sessions (ownership: the id must be among the user's listed sessions).
// Ending the current one also clears its cookie.
func (c *Core) EndSession(ctx context.Context, r *Request, s *session.Session, id string) error {
	list, err := c.sessions.List(ctx, s.UserKey)
	if err != nil {
		return storeErr(err)
	}
	var match []session.Info
	if len(id) == PublicIDLen {
		for _, in := range list {
			if in.ID[:PublicIDLen] == id {
				match = append(match, in)
			}
		}
	}
	if len(match) != 1 {
		return NewError(CodeNotFound, "you have no session with that id; list them with GET /sessions")
	}
	if err := c.sessions.DeleteID(ctx, match[0].ID); err != nil {
		return storeErr(err)
	}
	current := match[0].ID == s.ID
	if current {
		r.Cookies.Clear(c.names.Session)
	}
	c.logger(r).Info("session ended by its user", "provider", s.Data.Provider, "sub", s.Data.Subject,
		"session", id[:12], "current", current)
	c.emit(ctx, Event{Kind: EventSessionEnded, Provider: s.Data.Provider, Subject: s.Data.Subject, Session: shortSID(match[0].ID), Reason: "revoked"})
	return nil
}
