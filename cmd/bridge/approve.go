package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sagebridge/sagebridge/internal/control"
)

// restoreWait bounds how long the CLI's own engine may take to restore the
// held deletions from the status records when it starts.
const restoreWait = 30 * time.Second

// Approve implements control.Sync. The held deletions live in the running
// syncer (restored from the status records when it starts), so the CLI's
// own engine is started first and approves once it holds what the records
// say is held; the approved deletions then run in it (the caller waits for
// them as sync --once does).
func (e *engine) Approve(ctx context.Context, keys []string) (control.Approval, error) {
	recorded, err := heldKeys(ctx, e.status)
	if err != nil {
		return control.Approval{}, fmt.Errorf("approve: %w", err)
	}
	if !e.daemon {
		if len(recorded) == 0 {
			return control.Approval{Approved: []string{}, NotHeld: keys}, nil
		}
		e.ensureRunning()
		if err := e.awaitHeld(ctx, recorded); err != nil {
			return control.Approval{}, err
		}
	}
	approved, err := e.syncer.Approve(ctx, keys...)
	if err != nil {
		return control.Approval{}, fmt.Errorf("approve: %w", err)
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

// awaitHeld waits until the syncer holds every key in want, which it does
// once Run has restored them.
func (e *engine) awaitHeld(ctx context.Context, want []string) error {
	ctx, cancel := context.WithTimeout(ctx, restoreWait)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		held := e.syncer.Held()
		if !slices.ContainsFunc(want, func(k string) bool { return !slices.Contains(held, k) }) {
			return nil
		}
		if err := e.failed(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("approve: the sync did not restore the held deletions %v: %w", want, ctx.Err())
		case <-tick.C:
		}
	}
}
