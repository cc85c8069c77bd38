package main

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/internal/session"
)

// publicIDLen is how many hex characters of a record id the sessions API
// shows: enough to name a session among a user's few, never the whole
// store key (itself only a hash of the cookie token, but no need to show it).
const publicIDLen = 16

// sessionInfoJSON is one entry of GET /sessions. It holds no secret.
type sessionInfoJSON struct {
	ID        string `json:"id"`
	Created   string `json:"created"`
	LastSeen  string `json:"lastSeen"`
	Expires   string `json:"expires"`
	UserAgent string `json:"userAgent,omitempty"`
	Current   bool   `json:"current"`
}

func jsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// handleListSessions is GET /sessions: the signed-in user's live sessions,
// most recently used first, the request's own marked current.
func (a *App) handleListSessions(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if !a.apiGuard(c) {
		return
	}
	_, s, ok := a.apiSession(c)
	if !ok {
		return
	}
	list, err := a.sessions.List(c.Request.Context(), s.UserKey)
	if err != nil {
		a.storeUnavailable(c, err)
		return
	}
	out := make([]sessionInfoJSON, 0, len(list))
	for _, in := range list {
		out = append(out, sessionInfoJSON{
			ID: in.ID[:publicIDLen], Created: jsTime(in.Created), LastSeen: jsTime(in.LastSeen),
			Expires: jsTime(in.Expires), UserAgent: in.UserAgent, Current: in.ID == s.ID,
		})
	}
	c.JSON(http.StatusOK, gin.H{"sessions": out})
}

// handleDeleteSession is DELETE /sessions/:id: it ends one of the user's
// own sessions (ownership: the id must be among the user's listed
// sessions). Ending the current one also clears its cookie.
func (a *App) handleDeleteSession(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if !a.apiGuard(c) {
		return
	}
	_, s, ok := a.apiSession(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	list, err := a.sessions.List(ctx, s.UserKey)
	if err != nil {
		a.storeUnavailable(c, err)
		return
	}
	id := c.Param("id")
	var match []session.Info
	if len(id) == publicIDLen {
		for _, in := range list {
			if in.ID[:publicIDLen] == id {
				match = append(match, in)
			}
		}
	}
	if len(match) != 1 {
		jsonError(c, http.StatusNotFound, "not_found", "you have no session with that id; list them with GET /sessions")
		return
	}
	if err := a.sessions.DeleteID(ctx, match[0].ID); err != nil {
		a.storeUnavailable(c, err)
		return
	}
	current := match[0].ID == s.ID
	if current {
		a.clearCookie(c, a.names.Session)
	}
	a.reqLog(c).Info("session ended by its user", "provider", s.Data.Provider, "sub", s.Data.Subject,
		"session", id[:12], "current", current)
	c.Status(http.StatusNoContent)
}
