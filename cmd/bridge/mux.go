package main

import (
	"net/http"

	"github.com/sagebridge/sagebridge/internal/scim"
)

// newPublicMux wires every public route in one place.
func newPublicMux(h *scim.Handler, si *signIn) *http.ServeMux {
	mux := http.NewServeMux()
	h.Mount(mux)
	si.mount(mux)
	return mux
}
