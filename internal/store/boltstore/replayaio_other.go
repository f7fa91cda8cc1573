//go:build !(linux && (amd64 || arm64))

package boltstore

import (
	"errors"
	"os"
)

// openAIO is Linux's: elsewhere the log syncs from goroutines only.
func openAIO(*os.File) (asyncSyncer, error) { return nil, errors.ErrUnsupported }

// fdatasync is fsync where the syscall package has no fdatasync.
func fdatasync(f *os.File) error { return f.Sync() }
