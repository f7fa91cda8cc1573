package main

import (
	"context"

	"github.com/sagebridge/sagebridge/internal/control"
)

// Plan implements control.Sync with the syncer's dry run. It changes
// nothing in AWS, the store or the status records, and may run beside the
// daemon's sync.
func (e *engine) Plan(ctx context.Context, full bool) (control.Plan, error) {
	p, err := e.syncer.Plan(ctx, full)
	if err != nil {
		return control.Plan{}, err
	}
	out := control.Plan{At: p.At, Full: p.Full, Keys: p.Keys, Changes: []control.KeyPlan{}, Warnings: p.Warnings}
	for _, kp := range p.Changes {
		c := control.KeyPlan{Key: kp.Key, Error: kp.Error}
		for _, a := range kp.Actions {
			c.Actions = append(c.Actions, control.Action{Op: a.Op, Resource: a.Resource, Detail: a.Detail})
		}
		out.Changes = append(out.Changes, c)
	}
	return out, nil
}
