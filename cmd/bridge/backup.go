package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sagebridge/sagebridge/internal/control"
)

func newBackupCmd() *cobra.Command {
	var loc location
	cmd := &cobra.Command{
		Use:   "backup OUT",
		Short: "Write a consistent copy of the database to OUT, also while the daemon runs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return loc.withAdmin(true, func(admin control.Admin) error {
				return writeBackup(cmd.Context(), admin, args[0], cmd.ErrOrStderr())
			})
		},
	}
	loc.register(cmd)
	return cmd
}

// writeBackup writes beside out and renames, so out is either the old file
// or a complete backup, never a torn one.
func writeBackup(ctx context.Context, admin control.Admin, out string, log io.Writer) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), ".backup-*")
	if err != nil {
		return fmt.Errorf("create backup file: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := admin.Backup(ctx, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), out)
	}
	if err != nil {
		return fmt.Errorf("backup to %s: %w", out, err)
	}
	fmt.Fprintf(log, "wrote %d bytes to %s\n", n, out)
	return nil
}
