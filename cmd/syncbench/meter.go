package main

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Services as the meter names them.
const (
	serviceIAM       = "iam"
	serviceSageMaker = "sagemaker"
)

// meter sits in front of the emulator and times every HTTP request (every
// attempt the SDK makes, throttled ones included) per service. The
// emulator counts calls per operation; the meter adds when they happened,
// which the achieved rate needs, and which operations are SageMaker's
// (the JSON protocol names them in X-Amz-Target; the rest are IAM's).
type meter struct {
	next  http.Handler
	start time.Time

	mu    sync.Mutex
	calls map[string]*serviceCalls
	smOps map[string]bool
}

// serviceCalls are one service's requests: how many, the first and the
// last, and how many in each second since the meter's start.
type serviceCalls struct {
	n           int
	first, last time.Time
	perSecond   []int
}

func newMeter(next http.Handler, start time.Time) *meter {
	return &meter{next: next, start: start, calls: map[string]*serviceCalls{}, smOps: map[string]bool{}}
}

func (m *meter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.record(time.Now(), r.Header.Get("X-Amz-Target"))
	m.next.ServeHTTP(w, r)
}

func (m *meter) record(now time.Time, target string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	service := serviceIAM
	if op, ok := strings.CutPrefix(target, "SageMaker."); ok {
		service = serviceSageMaker
		m.smOps[op] = true
	}
	c := m.calls[service]
	if c == nil {
		c = &serviceCalls{first: now}
		m.calls[service] = c
	}
	c.n++
	c.last = now
	sec := max(int(now.Sub(m.start)/time.Second), 0)
	for len(c.perSecond) <= sec {
		c.perSecond = append(c.perSecond, 0)
	}
	c.perSecond[sec]++
}

// service returns the service of an operation the emulator counted.
func (m *meter) service(op string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.smOps[op] {
		return serviceSageMaker
	}
	return serviceIAM
}

// serviceStats is what the report shows of one service.
type serviceStats struct {
	Calls int
	// First and Last are the first and last call, from the start of the
	// sync.
	First, Last time.Duration
	// Seconds are the whole seconds between the first and the last call
	// (the partial first and last ones left out, and with them the
	// limiter's initial burst); Busy the calls made in them; AtLimit the
	// seconds in which the calls reached 90% of the limit, Idle those
	// with none.
	Seconds, Busy, AtLimit, Idle int
}

func (m *meter) stats(service string, limit float64) serviceStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.calls[service]
	if c == nil {
		return serviceStats{}
	}
	s := serviceStats{Calls: c.n, First: c.first.Sub(m.start), Last: c.last.Sub(m.start)}
	for sec := int(s.First/time.Second) + 1; sec < len(c.perSecond)-1; sec++ {
		n := c.perSecond[sec]
		s.Seconds++
		s.Busy += n
		switch {
		case float64(n) >= 0.9*limit:
			s.AtLimit++
		case n == 0:
			s.Idle++
		}
	}
	return s
}

// fraction is the achieved call rate in the whole seconds of the
// service's window as a fraction of the limit, and false when the calls
// all fell within two seconds.
func (s serviceStats) fraction(limit float64) (float64, bool) {
	if s.Seconds == 0 {
		return 0, false
	}
	return float64(s.Busy) / float64(s.Seconds) / limit, true
}
