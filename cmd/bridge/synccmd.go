package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/sagebridge/sagebridge/internal/control"
)

// pollInterval is how often the CLI asks whether the sync has converged.
const pollInterval = 100 * time.Millisecond

func newSyncCmd() *cobra.Command {
	var loc location
	var once, asJSON bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "sync --once",
		Short: "Run one full reconcile pass and wait until it converges",
		Long: `Run one full reconcile pass: every team and user is looked at, as by the
daemon's periodic resync, and the command waits until the sync has converged
or --timeout has passed (exit status 1). The daemon syncs continuously; with
no daemon running, the pass runs in this process against the AWS account of
--config.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !once {
				return &exitError{code: 2, err: errors.New("sync needs --once: `bridge serve` is what syncs continuously")}
			}
			return loc.withSync(cmd.Context(), cmd.ErrOrStderr(), func(h *syncHandle) error {
				start := time.Now()
				if err := h.Resync(cmd.Context()); err != nil {
					return err
				}
				sum, err := waitConverged(cmd.Context(), h, timeout)
				if err != nil {
					return err
				}
				return reportPass(cmd.OutOrStdout(), sum, time.Since(start), timeout, asJSON)
			})
		},
	}
	loc.register(cmd)
	cmd.Flags().BoolVar(&once, "once", false, "run one pass and exit (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "give up waiting for convergence after this long")
	return cmd
}

// waitConverged polls the summary until it says converged or timeout
// passes, and returns the last one.
func waitConverged(ctx context.Context, s control.Sync, timeout time.Duration) (control.Summary, error) {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		sum, err := s.Summary(ctx)
		if err != nil || sum.Converged || !time.Now().Before(deadline) {
			return sum, err
		}
		select {
		case <-ctx.Done():
			return sum, ctx.Err()
		case <-tick.C:
		}
	}
}

// passResult is sync --once's JSON.
type passResult struct {
	Converged      bool            `json:"converged"`
	ElapsedSeconds float64         `json:"elapsedSeconds"`
	Summary        control.Summary `json:"summary"`
}

func reportPass(w io.Writer, sum control.Summary, elapsed, timeout time.Duration, asJSON bool) error {
	if asJSON {
		if err := writeJSON(w, passResult{Converged: sum.Converged, ElapsedSeconds: elapsed.Seconds(), Summary: sum}); err != nil {
			return err
		}
	} else {
		if sum.Converged {
			fmt.Fprintf(w, "Converged in %s.\n", elapsed.Round(time.Millisecond))
		} else {
			fmt.Fprintf(w, "Not converged after %s.\n", elapsed.Round(time.Millisecond))
		}
		if err := printSummary(w, sum); err != nil {
			return err
		}
	}
	if !sum.Converged {
		return &exitError{code: 1, err: fmt.Errorf("the sync did not converge within %s", timeout)}
	}
	return nil
}
