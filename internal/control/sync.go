package control

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sync is what the CLI can ask of the sync engine. The daemon serves it on
// the control socket; without a daemon the CLI builds one over the store
// and AWS itself. The types here are the wire format of both, kept apart
// from internal/sync's own so the socket's JSON stays stable when the
// engine's records change.
type Sync interface {
	// Plan reports what a sync would change now and changes nothing. With
	// full it reads every resource from AWS instead of trusting what the
	// sync recorded as applied (one read per user: slow on a large
	// directory, but it finds any drift).
	Plan(ctx context.Context, full bool) (Plan, error)
	// Resync puts every key on the queue, as the periodic full resync does.
	Resync(ctx context.Context) error
	// Summary counts the sync's records by state and says whether
	// everything has converged.
	Summary(ctx context.Context) (Summary, error)
	// User reports one user, named by SCIM id or userName.
	User(ctx context.Context, ref string) (UserStatus, error)
	// Approve releases deletions held by the deletion threshold: the given
	// queue keys, or every held one when keys is empty.
	Approve(ctx context.Context, keys []string) (Approval, error)
}

// ErrSyncDisabled is returned by every Sync method of a daemon that keeps
// no AWS account in sync.
var ErrSyncDisabled = errors.New("sync is disabled")

// Action is one write a plan would make.
type Action struct {
	Op       string `json:"op"`
	Resource string `json:"resource"`
	Detail   string `json:"detail,omitempty"`
}

func (a Action) String() string {
	if a.Detail == "" {
		return a.Op + " " + a.Resource
	}
	return a.Op + " " + a.Resource + " (" + a.Detail + ")"
}

// KeyPlan is what a sync would do for one queue key.
type KeyPlan struct {
	Key     string   `json:"key"`
	Actions []Action `json:"actions,omitempty"`
	// Error is why the key would not converge: a conflict, a held
	// deletion, an invalid identity, an AWS error.
	Error string `json:"error,omitempty"`
}

// Plan lists the keys a sync would change; keys it would leave alone are
// only counted.
type Plan struct {
	At   time.Time `json:"at"`
	Full bool      `json:"full"`
	// Keys is how many queue keys were examined.
	Keys    int       `json:"keys"`
	Changes []KeyPlan `json:"changes"`
	// Warnings are what kept the plan from looking everywhere (AWS could
	// not be listed for drift, say): without them, no changes means none.
	Warnings []string `json:"warnings,omitempty"`
}

// Summary is the state of the whole sync.
type Summary struct {
	At time.Time `json:"at"`
	// Users is the number of SCIM users in the store.
	Users int `json:"users"`
	// States counts the sync's records by kind (user, team, group, saml)
	// and state (converged, pending, suspended, held, conflict, ...).
	States map[string]map[string]int `json:"states"`
	Queue  QueueSummary              `json:"queue"`
	// Held are the keys whose deletion waits for `bridge approve`.
	Held []string `json:"held"`
	// Problems are keys that need a person (conflict, failed), at most
	// MaxProblems of them.
	Problems []KeyProblem `json:"problems"`
	// Converged is true when nothing is due, retrying, in progress, held
	// or failed: AWS is what the store and the mapping say.
	Converged bool `json:"converged"`
	// Reasons say why Converged is false.
	Reasons []string `json:"reasons,omitempty"`
}

// MaxProblems caps Summary.Problems.
const MaxProblems = 20

// QueueSummary describes the durable queue, counted over all of it.
type QueueSummary struct {
	Depth int `json:"depth"`
	// Due is how many keys are due now or within the next minute.
	Due int `json:"due"`
	// Retrying is how many keys are backing off after an error.
	Retrying int `json:"retrying"`
	// Next is the earliest due time, zero when the queue is empty.
	Next time.Time `json:"next,omitzero"`
}

// KeyProblem is a key stopped on an error a person must resolve.
type KeyProblem struct {
	Key   string `json:"key"`
	State string `json:"state"`
	Error string `json:"error,omitempty"`
}

// UserStatus is one user as the store, the mapping, the sync and AWS see
// it.
type UserStatus struct {
	Key      string `json:"key"`
	ID       string `json:"id"`
	UserName string `json:"userName"`
	Active   bool   `json:"active"`
	// Desired is the identity the mapping gives the user now; when it gives
	// none (inactive, in no team, refused), DesiredError says why.
	Desired      *Identity `json:"desired,omitempty"`
	DesiredError string    `json:"desiredError,omitempty"`
	// Record is what the sync last recorded for the user.
	Record *Record `json:"record,omitempty"`
	// AWS is the user's profile as SageMaker has it now; AWSError is why it
	// could not be read.
	AWS      *Profile `json:"aws,omitempty"`
	AWSError string   `json:"awsError,omitempty"`
	// Queue is the user's queue entry, when it has one: the next attempt.
	Queue *QueueEntry `json:"queue,omitempty"`
	Held  bool        `json:"held"`
}

// Identity is the desired AWS identity of a user.
type Identity struct {
	UserID string `json:"userId"`
	// ProfileName is the bound profile name, or the one the first creation
	// will bind.
	ProfileName      string            `json:"profileName"`
	Team             string            `json:"team"`
	Teams            []string          `json:"teams"`
	ExecutionRoleARN string            `json:"executionRoleArn"`
	Tags             map[string]string `json:"tags"`
}

// Record is the sync's record of a key.
type Record struct {
	State         string    `json:"state"`
	Profile       string    `json:"profile,omitempty"`
	UserID        string    `json:"userId,omitempty"`
	Team          string    `json:"team,omitempty"`
	AppliedAt     time.Time `json:"appliedAt,omitzero"`
	Changed       time.Time `json:"changed,omitzero"`
	InactiveSince time.Time `json:"inactiveSince,omitzero"`
	LastError     string    `json:"lastError,omitempty"`
	ErrorAt       time.Time `json:"errorAt,omitzero"`
}

// Profile is a SageMaker user profile as AWS reports it.
type Profile struct {
	Exists        bool              `json:"exists"`
	Name          string            `json:"name"`
	ARN           string            `json:"arn,omitempty"`
	Status        string            `json:"status,omitempty"`
	FailureReason string            `json:"failureReason,omitempty"`
	ExecutionRole string            `json:"executionRole,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
}

// QueueEntry is a key's place in the durable queue.
type QueueEntry struct {
	Due       time.Time `json:"due"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"lastError,omitempty"`
}

// Approval is the outcome of Approve.
type Approval struct {
	// Approved keys may now delete.
	Approved []string `json:"approved"`
	// NotHeld are requested keys that were not waiting for approval.
	NotHeld []string `json:"notHeld,omitempty"`
}

// SyncDisabled is the Sync of a daemon that keeps no AWS account in sync:
// every method says so, with the reason.
func SyncDisabled(reason string) Sync { return disabled{reason} }

type disabled struct{ reason string }

func (d disabled) err() error { return fmt.Errorf("%s: %w", d.reason, ErrSyncDisabled) }

func (d disabled) Plan(context.Context, bool) (Plan, error)         { return Plan{}, d.err() }
func (d disabled) Resync(context.Context) error                     { return d.err() }
func (d disabled) Summary(context.Context) (Summary, error)         { return Summary{}, d.err() }
func (d disabled) User(context.Context, string) (UserStatus, error) { return UserStatus{}, d.err() }
func (d disabled) Approve(context.Context, []string) (Approval, error) {
	return Approval{}, d.err()
}
