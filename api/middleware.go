package main

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

type ctxKey string

const logKey ctxKey = "log"

// requestLog gives every request an id (X-Request-Id) and logs one line per
// request. It logs the path only: query strings can hold authorization codes.
func (a *App) requestLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		id := c.GetHeader("X-Request-Id")
		if id == "" || len(id) > 64 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Header("X-Request-Id", id)
		l := a.log.With("request_id", id)
		c.Set(string(logKey), l)
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelDebug
		if status >= 500 {
			level = slog.LevelWarn
		}
		l.Log(c.Request.Context(), level, "request", "method", c.Request.Method,
			"path", c.Request.URL.Path, "status", status, "duration_ms", time.Since(start).Milliseconds())
	}
}

// reqLog returns the request-scoped logger.
func (a *App) reqLog(c *gin.Context) *slog.Logger {
	if v, ok := c.Get(string(logKey)); ok {
		if l, ok := v.(*slog.Logger); ok {
			return l
		}
	}
	return a.log
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
