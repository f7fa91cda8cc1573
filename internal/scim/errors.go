package scim

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
	"github.com/sagebridge/sagebridge/internal/store"
)

// apiError is what a handler returns for the client: Status, scimType and
// Detail are sent; Err goes to the log only.
type apiError struct {
	Status int
	Type   schema.ErrorType
	Detail string
	Err    error
}

func (e *apiError) Error() string {
	if e.Err != nil {
		return e.Detail + ": " + e.Err.Error()
	}
	return e.Detail
}

func (e *apiError) Unwrap() error { return e.Err }

func errorf(status int, t schema.ErrorType, detail string) *apiError {
	return &apiError{Status: status, Type: t, Detail: detail}
}

// toAPIError classifies any error a handler returns. Anything it does not
// recognise is a 500 whose text never reaches the client.
func toAPIError(err error) *apiError {
	var ae *apiError
	var se *schema.Error
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &se):
		status := http.StatusBadRequest
		if se.Type == schema.NotUnique {
			status = http.StatusConflict
		}
		return &apiError{Status: status, Type: se.Type, Detail: se.Error()}
	case errors.As(err, &tooLarge):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Type: schema.InvalidSyntax,
			Detail: "request body larger than " + strconv.FormatInt(tooLarge.Limit, 10) + " bytes"}
	case errors.Is(err, store.ErrNotFound):
		return &apiError{Status: http.StatusNotFound, Detail: "resource not found", Err: err}
	case errors.Is(err, store.ErrConflict):
		return &apiError{Status: http.StatusConflict, Type: schema.NotUnique, Detail: "a resource with the same unique attribute already exists", Err: err}
	case errors.Is(err, store.ErrVersionMismatch):
		return &apiError{Status: http.StatusPreconditionFailed, Detail: "resource version does not match If-Match", Err: err}
	case errors.Is(err, store.ErrInvalidReference):
		return &apiError{Status: http.StatusBadRequest, Type: schema.InvalidValue, Detail: "members: every member must be an existing user", Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &apiError{Status: http.StatusServiceUnavailable, Detail: "request cancelled or timed out", Err: err}
	}
	return &apiError{Status: http.StatusInternalServerError, Detail: "internal error", Err: err}
}

// writeError renders the RFC 7644 §3.12 error body.
func writeError(w http.ResponseWriter, ae *apiError) {
	body := map[string]any{
		"schemas": []string{schema.ErrorURN},
		"status":  strconv.Itoa(ae.Status),
		"detail":  ae.Detail,
	}
	if ae.Type != "" {
		body["scimType"] = ae.Type
	}
	if ae.Status == http.StatusTooManyRequests || ae.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, ae.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body) // the client went away; nothing useful to do
}

func (h *Handler) logError(r *http.Request, ae *apiError) {
	level := slog.LevelInfo
	if ae.Status >= 500 {
		level = slog.LevelError
	}
	h.Logger.Log(r.Context(), level, "scim request failed",
		"method", r.Method, "path", r.URL.Path, "status", ae.Status, "scim_type", string(ae.Type),
		"detail", ae.Detail, "err", ae.Err)
}
