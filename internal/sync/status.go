package sync

import (
	"context"
	"strings"
	"time"
)

// States of a Status.
const (
	StateConverged = "converged" // AWS was found equal to the desired state
	StatePending   = "pending"   // writes made; waiting to see them settle
	StateSuspended = "suspended" // deprovisioned: the profile lost its userId tag
	StateDeleting  = "deleting"  // deprovisioned past the grace period
	StateDeleted   = "deleted"   // the profile is gone; the binding is kept
	StateHeld      = "held"      // a deletion waits for `bridge approve`
	StateConflict  = "conflict"  // unowned resource or identity collision
	StateFailed    = "failed"    // a Terminal error; see LastError
)

// Status is what the sync recorded about one queue key: enough to skip AWS
// entirely when nothing changed, to keep a profile's name across renames,
// and to answer `bridge status`.
type Status struct {
	Key   string `json:"key"`
	State string `json:"state"`
	// Applied is the hash of the desired state last found converged in
	// AWS. While the desired state hashes the same, a reconcile makes no
	// AWS call unless the key was picked for verification. A user's
	// pending record may carry the hash whose writes AWS accepted: then
	// only the profile settling is left to see.
	Applied   string    `json:"applied,omitempty"`
	AppliedAt time.Time `json:"appliedAt,omitzero"`
	// Changed is when the sync last wrote to AWS for the key; a role
	// written recently may not be visible to SageMaker yet.
	Changed time.Time `json:"changed,omitzero"`

	// Profile is the user's SageMaker profile name, bound (at Bound) before
	// the profile is first created and kept across renames.
	Profile string    `json:"profile,omitempty"`
	Bound   time.Time `json:"bound,omitzero"`
	// UserID and Team are the user's identity at the last reconcile; for a
	// group key Team is the team the group made.
	UserID string `json:"userId,omitempty"`
	Team   string `json:"team,omitempty"`
	// FederationRoleARN and ExecutionRoleARN are a team's roles as AWS
	// reported them.
	FederationRoleARN string `json:"federationRoleArn,omitempty"`
	ExecutionRoleARN  string `json:"executionRoleArn,omitempty"`
	// InactiveSince is when deprovisioning started: the grace period runs
	// from here, and reactivation clears it.
	InactiveSince time.Time `json:"inactiveSince,omitzero"`
	// Approved is when `bridge approve` released the key's held deletion;
	// recorded so the approval survives a restart before the deletion
	// starts, and cleared once it has.
	Approved time.Time `json:"approved,omitzero"`

	LastError string    `json:"lastError,omitempty"`
	ErrorAt   time.Time `json:"errorAt,omitzero"`
}

// StatusStore keeps Status records. The daemon's is NewStoreStatus, over
// the durable store, because the records must outlive the process: a user
// renamed after a restart must keep its profile, not get a second one.
// Every method is safe for concurrent use.
type StatusStore interface {
	// GetStatus returns the record of key, and false when there is none.
	GetStatus(ctx context.Context, key string) (Status, bool, error)
	PutStatus(ctx context.Context, s Status) error
	// DeleteStatus removes the record of key; removing a record that is
	// not there is not an error.
	DeleteStatus(ctx context.Context, key string) error
	// ScanStatus returns up to limit records with keys after the given
	// one, in key order; fewer than limit means the end.
	ScanStatus(ctx context.Context, after string, limit int) ([]Status, error)
}

// scanStatus calls fn for every record whose key starts with prefix.
func scanStatus(ctx context.Context, ss statusReader, prefix string, fn func(Status) error) error {
	const page = 500
	after := prefix
	for {
		batch, err := ss.ScanStatus(ctx, after, page)
		if err != nil {
			return err
		}
		for _, st := range batch {
			if !strings.HasPrefix(st.Key, prefix) {
				if st.Key > prefix {
					return nil
				}
				continue
			}
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
