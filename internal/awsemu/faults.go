package awsemu

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Faults are injected failures. Each call draws once from a generator seeded
// with Seed: with probability ThrottleFraction it is throttled, with
// ServerErrorFraction it fails with a 5xx before taking effect, and with
// AppliedErrorFraction it takes effect but the client still gets a 5xx (the
// response was "lost", so the SDK's retry meets the call's own result, e.g.
// EntityAlreadyExists). The sum of the fractions should be at most 1.
// Calls are throttled with the codes the SDK's retryer knows: IAM
// "Throttling", SageMaker "ThrottlingException", both HTTP 400 (reference
// rules 2, 6 and 28). The 5xx are ServiceFailure 500 or ServiceUnavailable
// 503 for IAM, InternalFailure 500 or ServiceUnavailable 503 for SageMaker.
type Faults struct {
	ThrottleFraction     float64
	ServerErrorFraction  float64
	AppliedErrorFraction float64
	// Latency is added to every call (wall-clock: it shapes throughput, not
	// semantics).
	Latency time.Duration
	// Seed makes the sequence of decisions reproducible: the same seed and
	// the same order of calls give the same faults.
	Seed uint64
}

type faultKind int

const (
	faultNone faultKind = iota
	faultThrottle
	faultServerError
	faultAppliedError
)

type faultState struct {
	mu  sync.Mutex
	cfg Faults
	rng *rand.Rand
}

func (f *faultState) set(cfg Faults) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = cfg
	f.rng = rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed5eed5eed5eed))
}

// decide draws the fault for one call; alt picks between the two 5xx codes.
func (f *faultState) decide() (kind faultKind, alt bool, latency time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cfg
	if c.ThrottleFraction <= 0 && c.ServerErrorFraction <= 0 && c.AppliedErrorFraction <= 0 {
		return faultNone, false, c.Latency
	}
	u := f.rng.Float64()
	switch {
	case u < c.ThrottleFraction:
		kind = faultThrottle
	case u < c.ThrottleFraction+c.ServerErrorFraction:
		kind = faultServerError
	case u < c.ThrottleFraction+c.ServerErrorFraction+c.AppliedErrorFraction:
		kind = faultAppliedError
	default:
		return faultNone, false, c.Latency
	}
	return kind, f.rng.IntN(2) == 1, c.Latency
}

// SetFaults replaces the fault settings and restarts the generator from
// f.Seed. It is safe to call while requests are being served.
func (e *Emulator) SetFaults(f Faults) { e.faults.set(f) }

// Faults returns the current fault settings.
func (e *Emulator) Faults() Faults {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	return e.faults.cfg
}

func injectedError(service string, kind faultKind, alt bool) *apiError {
	switch {
	case kind == faultThrottle && service == serviceIAM:
		return &apiError{code: "Throttling", msg: "Rate exceeded", status: http.StatusBadRequest}
	case kind == faultThrottle:
		return &apiError{code: "ThrottlingException", msg: "Rate exceeded", status: http.StatusBadRequest}
	case alt:
		return &apiError{code: "ServiceUnavailable", msg: "Service is unavailable. Please try again later.", status: http.StatusServiceUnavailable}
	case service == serviceIAM:
		return &apiError{code: "ServiceFailure", msg: "The request processing has failed because of an unknown error, exception or failure.", status: http.StatusInternalServerError}
	}
	return &apiError{code: "InternalFailure", msg: "The request processing has failed because of an unknown error, exception or failure.", status: http.StatusInternalServerError}
}

// call runs one operation: it counts it, applies injected faults and
// latency, and runs fn holding the state lock.
func (e *Emulator) call(r *http.Request, service, op string, fn func() (any, error)) (any, *apiError, string) {
	reqID := e.nextRequestID()
	e.stats.call(op)
	kind, alt, latency := e.faults.decide()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if kind == faultThrottle || kind == faultServerError {
		ae := injectedError(service, kind, alt)
		e.stats.outcome(op, "injected:"+ae.code)
		return nil, ae, reqID
	}
	result, err := e.locked(fn)
	if err != nil {
		ae := asAPIError(err, service)
		e.stats.outcome(op, ae.code)
		return nil, ae, reqID
	}
	if kind == faultAppliedError {
		ae := injectedError(service, faultServerError, alt)
		e.stats.outcome(op, "injected-applied:"+ae.code)
		return nil, ae, reqID
	}
	e.stats.outcome(op, "ok")
	return result, nil, reqID
}

// locked runs fn holding the state lock, released even if fn panics (the
// panic then reaches ServeHTTP's recover instead of deadlocking the next call).
func (e *Emulator) locked(fn func() (any, error)) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return fn()
}

// Outcome keys the per-outcome counters: Result is "ok", the error code the
// call returned ("NoSuchEntity"), "injected:<code>" for a fault injected
// before the call took effect, or "injected-applied:<code>" for one injected
// after it took effect.
type Outcome struct {
	Op     string
	Result string
}

type counters struct {
	mu       sync.Mutex
	calls    map[string]int
	outcomes map[Outcome]int
	panics   int
}

func (c *counters) init() {
	c.calls = map[string]int{}
	c.outcomes = map[Outcome]int{}
}

func (c *counters) call(op string) {
	c.mu.Lock()
	c.calls[op]++
	c.mu.Unlock()
}

func (c *counters) outcome(op, result string) {
	c.mu.Lock()
	c.outcomes[Outcome{op, result}]++
	c.mu.Unlock()
}

func (c *counters) panicked() {
	c.mu.Lock()
	c.panics++
	c.mu.Unlock()
}

// Calls returns the number of calls per operation name ("CreateRole",
// "DescribeUserProfile"; "Unknown" for operations the emulator does not
// implement), injected failures included.
func (e *Emulator) Calls() map[string]int {
	e.stats.mu.Lock()
	defer e.stats.mu.Unlock()
	out := make(map[string]int, len(e.stats.calls))
	for k, v := range e.stats.calls {
		out[k] = v
	}
	return out
}

// Outcomes returns the number of calls per operation and outcome.
func (e *Emulator) Outcomes() map[Outcome]int {
	e.stats.mu.Lock()
	defer e.stats.mu.Unlock()
	out := make(map[Outcome]int, len(e.stats.outcomes))
	for k, v := range e.stats.outcomes {
		out[k] = v
	}
	return out
}

// WriteCalls returns the number of calls to operations IsWrite reports.
func (e *Emulator) WriteCalls() int {
	n := 0
	for op, c := range e.Calls() {
		if IsWrite(op) {
			n += c
		}
	}
	return n
}

// Panics returns how many requests panicked inside the emulator (a bug;
// tests assert zero).
func (e *Emulator) Panics() int {
	e.stats.mu.Lock()
	defer e.stats.mu.Unlock()
	return e.stats.panics
}

// ResetCounters zeroes the call and outcome counters.
func (e *Emulator) ResetCounters() {
	e.stats.mu.Lock()
	defer e.stats.mu.Unlock()
	e.stats.init()
}

// IsWrite reports whether an operation may change state. Every IAM and
// SageMaker read starts with Get, List or Describe; anything else, unknown
// names included, counts as a write so "zero write calls" assertions err on
// the safe side.
func IsWrite(op string) bool {
	for _, p := range []string{"Get", "List", "Describe"} {
		if strings.HasPrefix(op, p) {
			return false
		}
	}
	return true
}
