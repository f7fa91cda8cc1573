package main

import (
	"net/http"

	"github.com/sagebridge/sagebridge/internal/scim"
)

// newPublicMux wires every public route in one place.
func newPublicMux(h *scim.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	h.Mount(mux)
	return mux
}
