package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

func newBackupCmd() *cobra.Command {
	var loc location
	cmd := &cobra.Command{
		Use:   "backup OUT",
		Short: "Write a consistent copy of the database to OUT, also while the daemon runs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			admin, closeFn, err := loc.openAdmin(true)
			if err != nil {
				return err
			}
			defer closeFn()
			out := args[0]
			// Write beside the target and rename, so OUT is either the old
			// file or a complete backup, never a torn one.
			tmp, err := os.CreateTemp(filepath.Dir(out), ".backup-*")
			if err != nil {
				return fmt.Errorf("create backup file: %w", err)
			}
			defer os.Remove(tmp.Name())
			n, err := admin.Backup(cmd.Context(), tmp)
			if err == nil {
				err = tmp.Sync()
			}
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("backup to %s: %w", out, err)
			}
			if err := os.Chmod(tmp.Name(), 0o600); err != nil {
				return fmt.Errorf("backup to %s: %w", out, err)
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return fmt.Errorf("backup to %s: %w", out, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d bytes to %s\n", n, out)
			return nil
		},
	}
	loc.register(cmd)
	return cmd
}
