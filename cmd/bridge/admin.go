package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/control"
	"github.com/sagebridge/sagebridge/internal/store/boltstore"
)

// dbName is the bbolt file's name in the data directory.
const dbName = "bridge.db"

// location says where a command finds the data directory: --data, or the
// dataDir of --config, or ./data.
type location struct {
	data   string
	config string
}

func (l *location) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&l.data, "data", "", "data directory (default: dataDir of --config, else ./data)")
	cmd.Flags().StringVar(&l.config, "config", "", "configuration file whose dataDir (and, for the sync commands, AWS account) to use")
}

func (l *location) dataDir() (string, error) {
	_, dir, err := l.load()
	return dir, err
}

// load returns the configuration of --config (nil without it: dev mode's
// default location) and the data directory.
func (l *location) load() (*config.Config, string, error) {
	var cfg *config.Config
	dir := config.Default().DataDir
	if l.config != "" {
		var err error
		if cfg, err = config.Load(l.config); err != nil {
			return nil, "", err
		}
		dir = cfg.DataDir
	}
	if l.data != "" {
		dir = l.data
	}
	return cfg, dir, nil
}

// openAdmin reaches the store through a running daemon's control socket, or
// opens it directly when no daemon runs. mustExist refuses to create a new
// database (a backup of a mistyped directory must fail, not succeed empty).
func (l *location) openAdmin(mustExist bool) (control.Admin, func() error, error) {
	dir, err := l.dataDir()
	if err != nil {
		return nil, nil, err
	}
	if c, ok := control.Dial(filepath.Join(dir, control.SocketName)); ok {
		return c, func() error { return nil }, nil
	}
	s, err := openStore(dir, mustExist)
	if err != nil {
		return nil, nil, err
	}
	return control.Local{Store: s, Now: time.Now}, s.Close, nil
}

// openStore opens the database in dir when no daemon holds it. mustExist
// refuses to create a new one.
func openStore(dir string, mustExist bool) (*boltstore.Store, error) {
	path := filepath.Join(dir, dbName)
	if mustExist {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no database at %s (is --data right?): %w", path, err)
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	s, err := boltstore.Open(path, boltstore.Options{OpenTimeout: 2 * time.Second})
	if errors.Is(err, boltstore.ErrLocked) {
		return nil, fmt.Errorf("%s is locked by a running daemon whose control socket %s does not answer: %w",
			path, filepath.Join(dir, control.SocketName), err)
	}
	return s, err
}

// withAdmin runs fn with the store reached as openAdmin says, and releases
// it afterwards.
func (l *location) withAdmin(mustExist bool, fn func(control.Admin) error) error {
	admin, closeFn, err := l.openAdmin(mustExist)
	if err != nil {
		return err
	}
	err = fn(admin)
	if cerr := closeFn(); err == nil {
		err = cerr
	}
	return err
}
