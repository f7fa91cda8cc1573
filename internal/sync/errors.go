package sync

import (
	"errors"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
)

// ErrConflict marks a resource the sync would have to change or delete
// but does not own, and an identity another user already holds. Such an
// error is Terminal: only a person can resolve it.
var ErrConflict = errors.New("conflict")

// ErrHeld marks a deletion held by the deletion threshold until approved.
var ErrHeld = errors.New("deletion held for approval")

func isThrottle(err error) bool { return bridgeaws.Classify(err) == bridgeaws.Throttled }
