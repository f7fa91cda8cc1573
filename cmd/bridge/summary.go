package main

import (
	"context"
	"fmt"
	"time"

	"github.com/sagebridge/sagebridge/internal/control"
	"github.com/sagebridge/sagebridge/internal/store"
	bridgesync "github.com/sagebridge/sagebridge/internal/sync"
)

// soon is how far ahead a queued key still counts as work to do: a key due
// later waits on purpose (a deprovisioned user's grace period), not for
// the sync to catch up.
const soon = time.Minute

// Summary implements control.Sync.
func (e *engine) Summary(ctx context.Context) (control.Summary, error) {
	if err := e.failed(); err != nil {
		return control.Summary{}, err
	}
	now := time.Now()
	stats, err := e.store.Stats(ctx)
	if err != nil {
		return control.Summary{}, fmt.Errorf("summary: %w", err)
	}
	sum := control.Summary{At: now.UTC(), Users: stats.Users, States: map[string]map[string]int{},
		Held: []string{}, Problems: []control.KeyProblem{}}
	err = scanAllStatus(ctx, e.status, func(st bridgesync.Status) error {
		kind := bridgesync.Kind(st.Key)
		if sum.States[kind] == nil {
			sum.States[kind] = map[string]int{}
		}
		sum.States[kind][st.State]++
		switch st.State {
		case bridgesync.StateHeld:
			sum.Held = append(sum.Held, st.Key)
		case bridgesync.StateConflict, bridgesync.StateFailed:
			if len(sum.Problems) < control.MaxProblems {
				sum.Problems = append(sum.Problems, control.KeyProblem{Key: st.Key, State: st.State, Error: st.LastError})
			}
		}
		return nil
	})
	if err != nil {
		return control.Summary{}, fmt.Errorf("summary: %w", err)
	}
	if sum.Queue, err = queueSummary(ctx, e.store, stats.QueueDepth, now); err != nil {
		return control.Summary{}, err
	}
	sum.Reasons = notConverged(sum)
	sum.Converged = len(sum.Reasons) == 0
	return sum, nil
}

func queueSummary(ctx context.Context, st store.Store, depth int, now time.Time) (control.QueueSummary, error) {
	q := control.QueueSummary{Depth: depth}
	if depth == 0 {
		return q, nil
	}
	qc, err := st.CountQueue(ctx, now.Add(soon))
	if err != nil {
		return q, fmt.Errorf("summary: %w", err)
	}
	q.Due, q.Retrying, q.Next = qc.Due, qc.Retrying, qc.Next
	return q, nil
}

// notConverged lists why the sync has not converged; none means it has.
func notConverged(s control.Summary) []string {
	var why []string
	if s.Queue.Due > 0 {
		why = append(why, fmt.Sprintf("%d keys due within %s", s.Queue.Due, soon))
	}
	if s.Queue.Retrying > 0 {
		why = append(why, fmt.Sprintf("%d keys retrying after errors", s.Queue.Retrying))
	}
	settling := 0
	problems := 0
	for _, states := range s.States {
		settling += states[bridgesync.StatePending] + states[bridgesync.StateDeleting]
		problems += states[bridgesync.StateConflict] + states[bridgesync.StateFailed]
	}
	if settling > 0 {
		why = append(why, fmt.Sprintf("%d keys waiting for AWS to settle", settling))
	}
	if len(s.Held) > 0 {
		why = append(why, fmt.Sprintf("%d deletions held for `bridge approve`", len(s.Held)))
	}
	if problems > 0 {
		why = append(why, fmt.Sprintf("%d keys stopped on a conflict or an error a person must resolve", problems))
	}
	return why
}

// scanAllStatus calls fn for every status record, in key order.
func scanAllStatus(ctx context.Context, ss bridgesync.StatusStore, fn func(bridgesync.Status) error) error {
	const page = 1000
	for after := ""; ; {
		batch, err := ss.ScanStatus(ctx, after, page)
		if err != nil {
			return fmt.Errorf("scan sync status: %w", err)
		}
		for _, st := range batch {
			if err := fn(st); err != nil {
				return err
			}
		}
		if len(batch) < page {
			return nil
		}
		after = batch[len(batch)-1].Key
	}
}
