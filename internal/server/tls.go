package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certCheckInterval is how often, at most, a handshake looks at the
// certificate files: two stats, so a busy listener costs nothing.
const certCheckInterval = time.Second

// certReloader serves a certificate and key pair from files and picks up
// a new pair when either file changes (by modification time or size), as
// after a renewal by cert-manager, certbot or a configuration management
// run. A pair that fails to load (half written, mismatched) is logged and
// the old one kept; it is tried again when the files change again.
type certReloader struct {
	certFile, keyFile string
	now               func() time.Time
	log               *slog.Logger

	mu        sync.Mutex
	cert      *tls.Certificate
	seen      [2]fileStamp // of the files the last load attempt read
	lastCheck time.Time
}

type fileStamp struct {
	modNanos, size int64
}

// newCertReloader loads the pair once: a daemon whose certificate cannot
// load must not start.
func newCertReloader(certFile, keyFile string, now func() time.Time, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, now: now, log: log}
	stamps, err := r.stat()
	if err != nil {
		return nil, err
	}
	cert, err := loadPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	r.cert, r.seen, r.lastCheck = cert, stamps, now()
	return r, nil
}

// GetCertificate is tls.Config.GetCertificate.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); now.Sub(r.lastCheck) >= certCheckInterval {
		r.lastCheck = now
		r.reloadIfChanged()
	}
	return r.cert, nil
}

func (r *certReloader) reloadIfChanged() {
	stamps, err := r.stat()
	if err != nil {
		// A renewal may replace a file by removing it first; keep serving.
		r.log.Warn("TLS certificate files unreadable; serving the loaded certificate", "err", err)
		return
	}
	if stamps == r.seen {
		return
	}
	r.seen = stamps
	cert, err := loadPair(r.certFile, r.keyFile)
	if err != nil {
		r.log.Error("TLS certificate changed but does not load; serving the previous one", "err", err)
		return
	}
	r.cert = cert
	r.log.Info("TLS certificate reloaded", "cert_file", r.certFile,
		"subject", cert.Leaf.Subject.String(), "not_after", cert.Leaf.NotAfter)
}

func (r *certReloader) stat() ([2]fileStamp, error) {
	var stamps [2]fileStamp
	for i, name := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return stamps, fmt.Errorf("TLS: %w", err)
		}
		stamps[i] = fileStamp{fi.ModTime().UnixNano(), fi.Size()}
	}
	return stamps, nil
}

func loadPair(certFile, keyFile string) (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS: load %s and %s: %w", certFile, keyFile, err)
	}
	// LoadX509KeyPair has filled in Leaf (Go 1.23 on), which the reload
	// log line reads.
	return &cert, nil
}
