package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newApproveCmd() *cobra.Command {
	var loc location
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "approve [KEY...]",
		Short: "Let deletions held by the deletion threshold proceed: the given queue keys, or all",
		Long: `Let deletions held by the deletion threshold proceed: the queue keys given
(as listed by bridge status, such as user/<id> or team/<name>), or every held
one. The approval is recorded: a daemon carries the deletions out whenever it
runs. With no daemon running they run in this process, which waits for them
as sync --once does.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return loc.withSync(cmd.Context(), cmd.ErrOrStderr(), func(h *syncHandle) error {
				w := cmd.OutOrStdout()
				a, err := h.Approve(cmd.Context(), args)
				if err != nil {
					return err
				}
				switch {
				case len(a.Approved) > 0:
					fmt.Fprintf(w, "approved: %s\n", strings.Join(a.Approved, " "))
				case len(args) == 0:
					fmt.Fprintln(w, "Nothing is held for approval.")
				}
				if len(a.NotHeld) > 0 {
					fmt.Fprintf(w, "not held, nothing to approve: %s\n", strings.Join(a.NotHeld, " "))
				}
				if h.local && len(a.Approved) > 0 {
					// The deletions run in this process: wait for them. Were it
					// stopped, the recorded approval lets a daemon finish them.
					start := time.Now()
					sum, err := waitConverged(cmd.Context(), h, timeout)
					if err != nil {
						return err
					}
					if err := reportPass(w, sum, time.Since(start), timeout, false); err != nil {
						return err
					}
				}
				if len(a.NotHeld) > 0 {
					return &exitError{code: 1, err: fmt.Errorf("%d of the keys given were not held", len(a.NotHeld))}
				}
				return nil
			})
		},
	}
	loc.register(cmd)
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "without a daemon: give up waiting for the approved deletions after this long")
	return cmd
}
