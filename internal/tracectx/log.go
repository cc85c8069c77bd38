package tracectx

import (
	"context"
	"log/slog"
)

// LogKey is the log attribute holding the trace id.
const LogKey = "trace_id"

// LogHandler wraps h so that every record logged with a context carrying a
// Context (NewContext) gets a trace_id attribute, unless the logger already
// has one (added with Logger.With(LogKey, ...)) or the record does, so it is never written
// twice. Records logged without a context (Logger.Info rather than
// InfoContext) are passed on unchanged: for those, add trace_id to the
// request's logger with With. After Logger.WithGroup the attribute lands
// inside the group.
func LogHandler(h slog.Handler) slog.Handler {
	return &logHandler{h: h}
}

type logHandler struct {
	h   slog.Handler
	has bool // a trace_id attribute is already attached
}

func (l *logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

func (l *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if c, ok := FromContext(ctx); ok && !l.has && !hasKey(r) {
		r.AddAttrs(slog.String(LogKey, c.TraceID.String()))
	}
	return l.h.Handle(ctx, r)
}

func hasKey(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == LogKey
		return !found
	})
	return found
}

func (l *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	has := l.has
	for _, a := range attrs {
		has = has || a.Key == LogKey
	}
	return &logHandler{h: l.h.WithAttrs(attrs), has: has}
}

func (l *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{h: l.h.WithGroup(name), has: l.has}
}
