// Package requestid carries a request's id in a context and onto every
// slog record logged with that context. It is a leaf (standard library
// only) so that the SCIM handlers and the sync, which internal/server
// sits above, can carry an id onward: the sync puts the id persisted on a
// queue entry back into the context of the reconcile it causes, and the
// AWS calls that reconcile logs share the SCIM request's id.
package requestid

import (
	"context"
	"log/slog"
)

// LogKey is the attribute the id is logged under.
const LogKey = "request_id"

type ctxKey struct{}

// With returns ctx carrying id. An empty id leaves ctx as it is.
func With(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the id ctx carries, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// LogHandler wraps h so that every record logged with a context carrying
// an id gets it as request_id. Wrapping twice adds it once.
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(handler); ok {
		return h
	}
	return handler{h}
}

type handler struct{ slog.Handler }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if id := From(ctx); id != "" {
		// The record may be shared with other handlers: add to a copy.
		r = r.Clone()
		r.AddAttrs(slog.String(LogKey, id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{h.Handler.WithAttrs(attrs)}
}

func (h handler) WithGroup(name string) slog.Handler {
	return handler{h.Handler.WithGroup(name)}
}
