package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/sagebridge/sagebridge/internal/control"
	"github.com/sagebridge/sagebridge/internal/store/boltstore"
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
	path := filepath.Join(dir, dbName)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no database at %s (is --data right?): %w", path, err)
	}
	st, err := boltstore.Open(path, boltstore.Options{OpenTimeout: 2 * time.Second})
	if errors.Is(err, boltstore.ErrLocked) {
		return nil, fmt.Errorf("%s is locked by a running daemon whose control socket does not answer: %w", path, err)
	}
	if err != nil {
		return nil, err
	}
	clients, err := newAWSClients(ctx, cfg, "")
	var eng *engine
	if err == nil {
		logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
		eng, err = newEngine(cfg, st, clients.IAM, clients.SageMaker, engineOptions{local: true, logger: logger})
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
