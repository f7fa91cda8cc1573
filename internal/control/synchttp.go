package control

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// mountSync adds the sync routes to the control socket's mux.
func mountSync(mux *http.ServeMux, s Sync) {
	mux.HandleFunc("GET /sync/plan", func(w http.ResponseWriter, r *http.Request) {
		// A plan reads AWS at the client-side rate limit and may take longer
		// than the server's write timeout; the CLI waits for it (and cancels
		// it by hanging up).
		_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		p, err := s.Plan(r.Context(), r.URL.Query().Get("full") == "true")
		respond(w, p, err)
	})
	mux.HandleFunc("POST /sync/resync", func(w http.ResponseWriter, r *http.Request) {
		respond(w, map[string]string{}, s.Resync(r.Context()))
	})
	mux.HandleFunc("GET /sync/summary", func(w http.ResponseWriter, r *http.Request) {
		sum, err := s.Summary(r.Context())
		respond(w, sum, err)
	})
	mux.HandleFunc("GET /sync/users/{ref}", func(w http.ResponseWriter, r *http.Request) {
		u, err := s.User(r.Context(), r.PathValue("ref"))
		respond(w, u, err)
	})
	mux.HandleFunc("POST /sync/approve", func(w http.ResponseWriter, r *http.Request) {
		var req approveRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
			respond(w, nil, fmt.Errorf("approve: %w: %v", errBadRequest, err))
			return
		}
		a, err := s.Approve(r.Context(), req.Keys)
		respond(w, a, err)
	})
}

type approveRequest struct {
	Keys []string `json:"keys"`
}

func (c *Client) Plan(ctx context.Context, full bool) (Plan, error) {
	var p Plan
	err := c.do(ctx, http.MethodGet, "/sync/plan?full="+fmt.Sprint(full), nil, &p)
	return p, err
}

func (c *Client) Resync(ctx context.Context) error {
	var body map[string]string
	return c.do(ctx, http.MethodPost, "/sync/resync", nil, &body)
}

func (c *Client) Summary(ctx context.Context) (Summary, error) {
	var s Summary
	err := c.do(ctx, http.MethodGet, "/sync/summary", nil, &s)
	return s, err
}

func (c *Client) User(ctx context.Context, ref string) (UserStatus, error) {
	var u UserStatus
	err := c.do(ctx, http.MethodGet, "/sync/users/"+url.PathEscape(ref), nil, &u)
	return u, err
}

func (c *Client) Approve(ctx context.Context, keys []string) (Approval, error) {
	var a Approval
	err := c.do(ctx, http.MethodPost, "/sync/approve", approveRequest{Keys: keys}, &a)
	return a, err
}
