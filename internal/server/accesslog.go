package server

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"time"

	"github.com/sagebridge/sagebridge/internal/requestid"
)

// RequestIDHeader is read from requests and set on every response.
const RequestIDHeader = "X-Request-Id"

const maxRequestIDLen = 128

// withRequestLog gives each request an id (the caller's X-Request-Id when
// it is sane, so that a proxy's or the IdP's id ties their logs to ours,
// else a new one), echoes it, and puts it into the request's context, so
// that every line logged while handling the request carries it. It logs
// one access line when the request ends, with the path but not the query,
// which can hold a SCIM filter naming a person.
func withRequestLog(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !saneRequestID(id) {
			id = rand.Text()
		}
		w.Header().Set(RequestIDHeader, id)
		ctx := requestid.With(r.Context(), id)
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r.WithContext(ctx))
		log.LogAttrs(ctx, slog.LevelInfo, "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)))
	})
}

// saneRequestID accepts what is safe to echo and log as is: 1 to 128 of
// [A-Za-z0-9._-].
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// recorder notes the status and body size. Unwrap lets
// http.ResponseController reach the connection's Flusher and deadlines.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (r *recorder) WriteHeader(code int) {
	// 1xx responses (103 Early Hints) come before the final one.
	if !r.wroteHeader && code >= 200 {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
