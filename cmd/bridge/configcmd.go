package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/mapping"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with configuration files"}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Report every problem in FILE, one per line as file:line: field: reason",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(args[0])
			if err == nil && cfg.AWS != nil && cfg.Mapping != nil {
				// What the daemon builds from the file at start.
				_, err = mapping.New(cfg)
			}
			if err != nil {
				fmt.Fprintln(cmd.OutOrStdout(), err)
				return &exitError{code: 1, err: fmt.Errorf("%s has problems", args[0])}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", args[0])
			return nil
		},
	})
	return cmd
}
