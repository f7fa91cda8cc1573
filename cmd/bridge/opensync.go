package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
	"github.com/sagebridge/sagebridge/internal/control"
)

// syncHandle is the sync engine a command talks to.
type syncHandle struct {
	control.Sync
	// local is true for the CLI's own engine: reconciles run in this
	// process and stop when it exits.
	local bool
	close func() error
}

// openSync reaches the sync engine: the daemon's through the control
// socket, or, when no daemon runs, one built here over the database and
// the AWS account of the same configuration. Dev mode's AWS is the
// emulator inside the daemon, so without a daemon it has none.
func (l *location) openSync(ctx context.Context, logw io.Writer) (*syncHandle, error) {
	cfg, dir, err := l.load()
	if err != nil {
		return nil, err
	}
	if c, ok := control.Dial(filepath.Join(dir, control.SocketName)); ok {
		return &syncHandle{Sync: c, close: func() error { return nil }}, nil
	}
	if cfg == nil {
		return nil, errDevNoDaemon
	}
	if cfg.AWS == nil || cfg.Mapping == nil {
		return nil, fmt.Errorf("%s: %w", syncDisabledReason(cfg), control.ErrSyncDisabled)
	}
	st, err := openStore(dir, true)
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The SAML provider's metadata comes from sign-in, as in the daemon,
	// so that a plan here and there agree.
	si, err := newSignIn(ctx, cfg, st, prometheus.NewRegistry(), logger, "")
	var clients *bridgeaws.Clients
	if err == nil {
		clients, err = newAWSClients(ctx, cfg, "")
	}
	var eng *engine
	if err == nil {
		eng, err = newEngine(cfg, st, clients.IAM, clients.SageMaker, si.syncOptions(engineOptions{local: true, logger: logger}))
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return &syncHandle{Sync: eng, local: true, close: func() error {
		return errors.Join(eng.stop(), st.Close())
	}}, nil
}

// withSync runs fn with the engine openSync reaches, and releases it.
func (l *location) withSync(ctx context.Context, logw io.Writer, fn func(*syncHandle) error) error {
	h, err := l.openSync(ctx, logw)
	if err != nil {
		return err
	}
	err = fn(h)
	if cerr := h.close(); err == nil {
		err = cerr
	}
	return err
}
