// Package server runs sagebridge's listeners: the public one (SCIM, over
// TLS when certificate files are given), the admin one (metrics, health,
// readiness) and the local control socket, and shuts them down in an order
// that loses no acknowledged write. Requests on the public listener and the
// control socket carry a request id into their context and are logged once.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sagebridge/sagebridge/internal/requestid"
)

// Server holds what Run needs. Public and Control are complete handlers;
// the admin mux is built here.
type Server struct {
	Listen      string
	AdminListen string
	// PublicListener, if set, is the public listener already bound (and
	// Listen is not used): a caller that must know the address before Run,
	// as dev mode's sign-in on a port chosen at start does. The caller
	// closes it too, for a Run that fails before serving on it.
	PublicListener net.Listener
	Public         http.Handler
	// TLSCertFile and TLSKeyFile, when set, serve the public listener over
	// TLS from these PEM files, reloaded when they change.
	TLSCertFile, TLSKeyFile string
	Registry                *prometheus.Registry
	// Checks are what /readyz runs (store open, last full resync recent,
	// AWS reachable, ...). Wrap a check that calls out with Cached.
	Checks []Check
	// ReadyTimeout bounds one /readyz answer; 0 means DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// Admin, if set, serves the admin listener's other pages (the status
	// page) beside metrics and health.
	Admin  http.Handler
	Logger *slog.Logger
	// ShutdownTimeout bounds how long in-flight requests may take to finish
	// after SIGTERM.
	ShutdownTimeout time.Duration
	// Control, if set, serves the local control API on ControlListener.
	Control         http.Handler
	ControlListener net.Listener
	// Started, if set, is called with the bound addresses once listening.
	Started func(public, admin net.Addr)
	// Now is the clock the certificate reload reads; nil means time.Now.
	Now func() time.Time
}

func (s *Server) adminMux(log *slog.Logger) *http.ServeMux {
	timeout := s.ReadyTimeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{Registry: s.Registry}))
	// Liveness only: the process serves HTTP. Dependencies belong to
	// /readyz, or an orchestrator would restart a healthy daemon because
	// AWS is down.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /readyz", &readiness{checks: s.Checks, timeout: timeout, log: log})
	if s.Admin != nil {
		mux.Handle("/", s.Admin)
	}
	return mux
}

// listener is one server and what it serves on.
type listener struct {
	srv *http.Server
	ln  net.Listener
}

// Run serves until ctx is cancelled, then stops accepting, lets in-flight
// requests finish (each SCIM write is acknowledged only after its commit,
// so finishing them is what makes shutdown lossless) and returns. The caller
// closes the store after Run returns.
func (s *Server) Run(ctx context.Context) error {
	log := slog.New(requestid.LogHandler(s.Logger.Handler()))
	if err := validateChecks(s.Checks); err != nil {
		return err
	}
	tlsConfig, err := s.tlsConfig(log)
	if err != nil {
		return err
	}
	publicLn, err := s.publicListener()
	if err != nil {
		return err
	}
	adminLn, err := net.Listen("tcp", s.AdminListen)
	if err != nil {
		publicLn.Close()
		return fmt.Errorf("listen %s (admin): %w", s.AdminListen, err)
	}
	public := newHTTPServer(withRequestLog(s.Public, log), log)
	if tlsConfig != nil {
		public.TLSConfig = tlsConfig
		publicLn = tls.NewListener(publicLn, tlsConfig)
	}
	listeners := []listener{{public, publicLn}, {newHTTPServer(s.adminMux(log), log), adminLn}}
	if s.Control != nil {
		listeners = append(listeners, listener{newHTTPServer(withRequestLog(s.Control, log), log), s.ControlListener})
	}
	errc := make(chan error, len(listeners))
	for _, l := range listeners {
		go func() {
			if err := l.srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	log.Info("listening", "public", publicLn.Addr().String(), "tls", tlsConfig != nil, "admin", adminLn.Addr().String())
	if s.Started != nil {
		s.Started(publicLn.Addr(), adminLn.Addr())
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		log.Error("listener failed", "err", runErr)
	}
	log.Info("shutting down", "timeout", s.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.ShutdownTimeout)
	defer cancel()
	for _, l := range listeners {
		if err := l.srv.Shutdown(sctx); err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("shutdown: %w", err))
		}
	}
	return runErr
}

func (s *Server) publicListener() (net.Listener, error) {
	if s.PublicListener != nil {
		return s.PublicListener, nil
	}
	ln, err := net.Listen("tcp", s.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", s.Listen, err)
	}
	return ln, nil
}

// tlsConfig is nil when no certificate is configured.
func (s *Server) tlsConfig(log *slog.Logger) (*tls.Config, error) {
	if s.TLSCertFile == "" && s.TLSKeyFile == "" {
		return nil, nil
	}
	if s.TLSCertFile == "" || s.TLSKeyFile == "" {
		return nil, errors.New("TLS needs both a certificate file and a key file")
	}
	now := s.Now
	if now == nil {
		now = time.Now
	}
	certs, err := newCertReloader(s.TLSCertFile, s.TLSKeyFile, now, log)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: certs.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}, nil
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
