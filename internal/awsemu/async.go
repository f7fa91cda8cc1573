package awsemu

import "time"

// progress tracks a resource through one transitional state (a profile
// Pending, an app Deleting, a role not yet visible to SageMaker). Time alone
// would force tests to sleep or to move a clock between every call;
// counting observations lets a test (or dev mode) step through the states
// by calling the API, while Delay with an injected clock covers
// "until N seconds have passed".
type progress struct {
	left    int       // observations still to make in this state
	readyAt time.Time // and the clock must have reached this
}

func newProgress(t Transition, now time.Time) progress {
	return progress{left: t.observations(), readyAt: now.Add(t.Delay)}
}

// observe records one observation and reports whether the state is over.
// An observation made while observations remain shows the old state.
func (p *progress) observe(now time.Time) bool {
	if p.left > 0 {
		p.left--
		return false
	}
	return !now.Before(p.readyAt)
}
