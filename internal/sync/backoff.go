package sync

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Backoff computes the delay before the next attempt of a key that failed
// attempts times in a row: Base doubled per attempt, capped at Max, then
// spread by Jitter so that keys failing together (a burst of throttles)
// do not retry together.
type Backoff struct {
	// Base is the delay after the first failure. Default 1s.
	Base time.Duration
	// Max caps the delay. Default 5m: long enough not to hammer a service
	// that is down, short enough that a fixed problem is picked up soon.
	Max time.Duration
	// Jitter spreads the delay uniformly over [d*(1-Jitter/2), d*(1+Jitter/2)),
	// then caps it at Max. 0 means the default 0.5; negative means none.
	Jitter float64
	// Rand returns a number in [0, 1). Default a seeded generator; tests
	// pin it.
	Rand func() float64
}

// maxAttempts caps the attempt count the queue records; beyond it the
// delay is at Max anyway and the count only has to say "many".
const maxAttempts = 1000

func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = time.Second
	}
	if b.Max <= 0 {
		b.Max = 5 * time.Minute
	}
	if b.Max < b.Base {
		b.Max = b.Base
	}
	switch {
	case b.Jitter == 0:
		b.Jitter = 0.5
	case b.Jitter < 0:
		b.Jitter = 0
	case b.Jitter > 1:
		b.Jitter = 1
	}
	if b.Rand == nil {
		var mu sync.Mutex
		rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		b.Rand = func() float64 {
			mu.Lock()
			defer mu.Unlock()
			return rng.Float64()
		}
	}
	return b
}

// Delay returns the wait after the given number of consecutive failures
// (1 for the first). It never exceeds Max and never overflows.
func (b Backoff) Delay(attempts int) time.Duration {
	d := b.Base
	for i := 1; i < attempts && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if b.Jitter > 0 {
		f := 1 - b.Jitter/2 + b.Jitter*b.Rand()
		d = time.Duration(float64(d) * f)
	}
	return min(max(d, 0), b.Max)
}
