package main

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// requestLog gives every request an id (X-Request-Id) and logs one line per
// request. It logs the path only: query strings can hold authorization codes.
func (a *App) requestLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		id := c.GetHeader("X-Request-Id")
		if id == "" || len(id) > 64 || !printableASCII(id) {
			id = a.reqIDs.next()
		}
		c.Header("X-Request-Id", id)
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelDebug
		if status >= 500 {
			level = slog.LevelWarn
		}
		if a.log.Enabled(c.Request.Context(), level) {
			a.log.Log(c.Request.Context(), level, "request", "request_id", id, "method", c.Request.Method,
				"path", c.Request.URL.Path, "status", status, "duration_ms", time.Since(start).Milliseconds())
		}
	}
}

// reqLog returns the request-scoped logger (made on first use: most
// requests log nothing).
func (a *App) reqLog(c *gin.Context) *slog.Logger {
	if id := c.Writer.Header().Get("X-Request-Id"); id != "" {
		return a.log.With("request_id", id)
	}
	return a.log
}

// requestIDs makes request ids: a random per-process prefix and a counter
// (unique, cheap, and not guessable across restarts).
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &requestIDs{prefix: hex.EncodeToString(b[:])}
}

func (r *requestIDs) next() string {
	return r.prefix + "-" + strconv.FormatUint(r.n.Add(1), 36)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func (a *App) recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.log.Error("panic while serving a request", "panic", v, "path", c.Request.URL.Path)
				jsonError(c, http.StatusInternalServerError, "internal_error", "an internal error occurred; it has been logged")
			}
		}()
		c.Next()
	}
}
