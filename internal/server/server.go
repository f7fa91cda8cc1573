// Package server runs sagebridge's listeners: the public one (SCIM), the
// admin one (metrics, health, readiness) and the local control socket, and
// shuts them down in an order that loses no acknowledged write.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server holds what Run needs. Public and Control are complete handlers;
// the admin mux is built here.
type Server struct {
	Listen      string
	AdminListen string
	Public      http.Handler
	Registry    *prometheus.Registry
	// Ready reports whether the daemon can serve (the store answers).
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
	// ShutdownTimeout bounds how long in-flight requests may take to finish
	// after SIGTERM.
	ShutdownTimeout time.Duration
	// Control, if set, serves the local control API on ControlListener.
	Control         http.Handler
	ControlListener net.Listener
	// Started, if set, is called with the bound addresses once listening.
	Started func(public, admin net.Addr)
}

func (s *Server) adminMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{Registry: s.Registry}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			s.Logger.WarnContext(r.Context(), "not ready", "err", err)
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// Run serves until ctx is cancelled, then stops accepting, lets in-flight
// requests finish (each SCIM write is acknowledged only after its commit,
// so finishing them is what makes shutdown lossless) and returns. The caller
// closes the store after Run returns.
func (s *Server) Run(ctx context.Context) error {
	publicLn, err := net.Listen("tcp", s.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.Listen, err)
	}
	adminLn, err := net.Listen("tcp", s.AdminListen)
	if err != nil {
		publicLn.Close()
		return fmt.Errorf("listen %s (admin): %w", s.AdminListen, err)
	}
	servers := []*http.Server{
		newHTTPServer(s.Public, s.Logger),
		newHTTPServer(s.adminMux(), s.Logger),
	}
	listeners := []net.Listener{publicLn, adminLn}
	if s.Control != nil {
		servers = append(servers, newHTTPServer(s.Control, s.Logger))
		listeners = append(listeners, s.ControlListener)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if err := srv.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	s.Logger.Info("listening", "public", publicLn.Addr().String(), "admin", adminLn.Addr().String())
	if s.Started != nil {
		s.Started(publicLn.Addr(), adminLn.Addr())
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		s.Logger.Error("listener failed", "err", runErr)
	}
	s.Logger.Info("shutting down", "timeout", s.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("shutdown: %w", err))
		}
	}
	return runErr
}

func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
