package main

import (
	"context"
	"slices"

	"github.com/sagebridge/sagebridge/internal/control"
)

// Approve implements control.Sync. The syncer records each approval in the
// key's status and enqueues the key, so a daemon carries the deletions out
// whenever it runs; the CLI's own engine starts to run them now (the caller
// waits for them as sync --once does).
func (e *engine) Approve(ctx context.Context, keys []string) (control.Approval, error) {
	approved, err := e.syncer.Approve(ctx, keys...)
	if err != nil {
		return control.Approval{}, err
	}
	if len(approved) > 0 {
		e.ensureRunning()
	}
	out := control.Approval{Approved: approved}
	if out.Approved == nil {
		out.Approved = []string{}
	}
	for _, k := range keys {
		if !slices.Contains(approved, k) {
			out.NotHeld = append(out.NotHeld, k)
		}
	}
	return out, nil
}
