// Package scim is the SCIM 2.0 service provider (RFC 7643, RFC 7644) that
// Okta and Microsoft Entra ID push users and groups into: discovery, Users,
// Groups, filters, PATCH, ETags, SCIM errors and bearer-token auth.
package scim

import (
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sagebridge/sagebridge/internal/metrics"
	"github.com/sagebridge/sagebridge/internal/scim/schema"
	"github.com/sagebridge/sagebridge/internal/store"
)

// Prefix is where the SCIM API is mounted.
const Prefix = "/scim/v2"

// Handler serves the SCIM API. Its fields are its dependencies.
type Handler struct {
	Store   store.Store
	Users   *schema.ResourceType
	Groups  *schema.ResourceType
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	Now     func() time.Time
	// NewID returns a fresh resource id.
	NewID func() string
	// MaxBodyBytes bounds every request body.
	MaxBodyBytes int64
	// MaxInFlight bounds concurrent requests; past it clients get 429 with
	// Retry-After, which Okta and Entra honour, instead of timeouts.
	MaxInFlight int

	slots chan struct{}
}

// Defaults used when the corresponding field is zero.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxInFlight  = 512
	defaultCount        = 100
	maxCount            = 1000
	// maxIndexedBytes bounds the attributes the store indexes (userName,
	// externalId, emails, displayName): index keys have a size limit of
	// their own, and no IdP sends values anywhere near this long.
	maxIndexedBytes = 2048
)

// Mount registers the SCIM routes on mux.
func (h *Handler) Mount(mux *http.ServeMux) {
	if h.MaxBodyBytes == 0 {
		h.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if h.MaxInFlight == 0 {
		h.MaxInFlight = DefaultMaxInFlight
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	if h.NewID == nil {
		h.NewID = NewUUID
	}
	if h.Logger == nil {
		h.Logger = slog.New(slog.DiscardHandler)
	}
	h.slots = make(chan struct{}, h.MaxInFlight)

	route := func(pattern, resource string, fn func(http.ResponseWriter, *http.Request) error) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+Prefix+path, h.wrap(resource, fn))
	}
	route("GET /ServiceProviderConfig", "ServiceProviderConfig", h.serviceProviderConfig)
	route("GET /ResourceTypes", "ResourceTypes", h.resourceTypes)
	route("GET /ResourceTypes/{id}", "ResourceTypes", h.resourceType)
	route("GET /Schemas", "Schemas", h.schemas)
	route("GET /Schemas/{id}", "Schemas", h.schemaByID)

	route("POST /.search", "Search", h.searchAll)
	route("POST /Users", "User", h.createUser)
	route("GET /Users", "User", h.listUsers)
	route("POST /Users/.search", "User", h.searchUsers)
	route("GET /Users/{id}", "User", h.getUser)
	route("PUT /Users/{id}", "User", h.replaceUser)
	route("PATCH /Users/{id}", "User", h.patchUser)
	route("DELETE /Users/{id}", "User", h.deleteUser)

	route("POST /Groups", "Group", h.createGroup)
	route("GET /Groups", "Group", h.listGroups)
	route("POST /Groups/.search", "Group", h.searchGroups)
	route("GET /Groups/{id}", "Group", h.getGroup)
	route("PUT /Groups/{id}", "Group", h.replaceGroup)
	route("PATCH /Groups/{id}", "Group", h.patchGroup)
	route("DELETE /Groups/{id}", "Group", h.deleteGroup)

	mux.Handle(Prefix+"/", h.wrap("unknown", func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotFound, "", fmt.Sprintf("no SCIM endpoint %s %s", r.Method, r.URL.Path))
	}))
}

// wrap is the one adapter between handlers and HTTP: overload shedding,
// authentication, body limits, panic recovery, metrics and error rendering.
func (h *Handler) wrap(resource string, fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				h.Logger.ErrorContext(r.Context(), "scim handler panic", "panic", p, "stack", string(debug.Stack()))
				if !rec.wrote {
					writeError(rec, errorf(http.StatusInternalServerError, "", "internal error"))
				}
			}
			if h.Metrics != nil {
				h.Metrics.SCIMRequests.WithLabelValues(resource, r.Method, fmt.Sprint(rec.status)).Inc()
				h.Metrics.SCIMDuration.WithLabelValues(resource, r.Method).Observe(time.Since(start).Seconds())
			}
		}()
		select {
		case h.slots <- struct{}{}:
			defer func() { <-h.slots }()
		default:
			h.reject(rec, r, "overload", errorf(http.StatusTooManyRequests, "", "too many concurrent requests; retry later"))
			return
		}
		if err := h.authenticate(r); err != nil {
			rec.Header().Set("WWW-Authenticate", `Bearer realm="sagebridge SCIM"`)
			h.reject(rec, r, "unauthorized", toAPIError(err))
			return
		}
		if err := checkContentType(r); err != nil {
			h.reject(rec, r, "media_type", err)
			return
		}
		r.Body = http.MaxBytesReader(rec, r.Body, h.MaxBodyBytes)
		if err := fn(rec, r); err != nil {
			ae := toAPIError(err)
			if ae.Status == http.StatusRequestEntityTooLarge && h.Metrics != nil {
				h.Metrics.SCIMRejected.WithLabelValues("too_large").Inc()
			}
			h.logError(r, ae)
			writeError(rec, ae)
		}
	})
}

func (h *Handler) reject(w http.ResponseWriter, r *http.Request, reason string, ae *apiError) {
	if h.Metrics != nil {
		h.Metrics.SCIMRejected.WithLabelValues(reason).Inc()
	}
	h.Logger.InfoContext(r.Context(), "scim request rejected", "method", r.Method, "path", r.URL.Path, "reason", reason)
	writeError(w, ae)
}

// checkContentType accepts what Okta and Entra send (application/scim+json
// or application/json, with or without charset) and requests without a body
// type at all; GETs are never refused for their headers.
func checkContentType(r *http.Request) *apiError {
	ct := r.Header.Get("Content-Type")
	if r.Method == http.MethodGet || r.Method == http.MethodDelete || ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/scim+json" || mt == "application/json") {
		return nil
	}
	return errorf(http.StatusUnsupportedMediaType, schema.InvalidSyntax,
		fmt.Sprintf("Content-Type %q: send application/scim+json or application/json", ct))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// audit records a change with the token that made it. The record goes to
// the log under a stable message so that it can be routed on its own.
func (h *Handler) audit(r *http.Request, action, id string) {
	h.Logger.InfoContext(r.Context(), "audit", "action", action, "resource_id", id, "actor", Actor(r.Context()))
}
