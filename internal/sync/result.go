package sync

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Result is what a successful reconcile asks of the queue.
type Result struct {
	// RequeueAfter > 0 reschedules the key after this long without
	// counting an attempt: the work is not failing, it is waiting for AWS
	// (a profile still Pending, a role still propagating, apps still
	// deleting). This is a poll interval, not a retry policy.
	RequeueAfter time.Duration
}

// Reconciler brings one key's resources to their desired state. It must be
// idempotent and level-triggered: it is called again after any failure,
// after a restart, and whenever the key is enqueued again.
type Reconciler interface {
	Reconcile(ctx context.Context, key string) (Result, error)
}

// ReconcilerFunc adapts a function to Reconciler.
type ReconcilerFunc func(ctx context.Context, key string) (Result, error)

// Reconcile calls f.
func (f ReconcilerFunc) Reconcile(ctx context.Context, key string) (Result, error) {
	return f(ctx, key)
}

// terminalError marks an error that retrying the same input cannot fix.
type terminalError struct{ err error }

func (e *terminalError) Error() string { return e.err.Error() }
func (e *terminalError) Unwrap() error { return e.err }

// Terminal wraps err so that the controller records it and stops retrying
// the key until the key is enqueued again (the user, the group or the
// configuration changed). Terminal(nil) is nil.
func Terminal(err error) error {
	if err == nil {
		return nil
	}
	return &terminalError{err: err}
}

// IsTerminal reports whether err, or an error it wraps, is Terminal.
func IsTerminal(err error) bool {
	var te *terminalError
	return errors.As(err, &te)
}

// Kind is the kind of a queue key: the part before the first "/" ("user",
// "group", "team"), or the whole key when it has none ("saml"). Metrics
// are labelled with it, so keys of unknown shape share one label value.
func Kind(key string) string {
	kind, _, _ := strings.Cut(key, "/")
	switch kind {
	case kindUser, kindGroup, kindTeam, kindSAML:
		return kind
	}
	return "other"
}

// Queue key kinds.
const (
	kindUser  = "user"
	kindGroup = "group"
	kindTeam  = "team"
	kindSAML  = "saml"
)

// SAMLKey is the queue key of the SAML provider.
const SAMLKey = kindSAML

// TeamKey is the queue key of a team's roles.
func TeamKey(name string) string { return kindTeam + "/" + name }
