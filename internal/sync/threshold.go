package sync

import (
	"slices"
	gosync "sync"
	"time"

	"github.com/sagebridge/sagebridge/internal/config"
)

// Resource kinds the deletion threshold counts separately.
const (
	deleteProfile = "profile"
	deleteRole    = "role"
)

// threshold is the deletion safety rail: when one window would start more
// than Count deletions of one kind, or more than Percent of the managed
// resources of that kind, it trips; from then on every deletion is held
// until approved, because a mass deletion is far more often a mistake (an
// IdP misconfiguration, a wrong mapping) than an intention.
type threshold struct {
	cfg     config.DeletionThreshold
	now     func() time.Time
	metrics *Metrics

	mu       gosync.Mutex
	started  map[string][]time.Time // kind -> deletions started in the window
	tripped  bool
	held     map[string]bool // queue keys waiting for approval
	approved map[string]bool
}

func newThreshold(cfg config.DeletionThreshold, now func() time.Time, m *Metrics) *threshold {
	return &threshold{cfg: cfg, now: now, metrics: m, started: map[string][]time.Time{},
		held: map[string]bool{}, approved: map[string]bool{}}
}

// allow decides whether the deletion of key (of kind, out of managed()
// resources of that kind) may start now, and counts it if so. An approved
// deletion always may (approved says the key's record carries an
// approval), and does not count: a person decided it.
//
// managed is called only when the percentage decides: counting scans every
// status record, and the deletions a tripped threshold holds (all of them,
// when an IdP mistake deprovisions everyone) must not each cost a scan.
func (t *threshold) allow(key, kind string, managed func() int, approved bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if approved || t.approved[key] {
		delete(t.approved, key)
		t.release(key)
		return true
	}
	now := t.now()
	window := t.cfg.Window.Duration
	recent := slices.DeleteFunc(t.started[kind], func(at time.Time) bool { return now.Sub(at) >= window })
	t.started[kind] = recent
	n := len(recent) + 1
	over := func() bool {
		if n > t.cfg.Count {
			return true
		}
		if t.cfg.Percent <= 0 {
			return false
		}
		m := managed()
		return m > 0 && float64(n)*100/float64(m) > t.cfg.Percent
	}
	if t.tripped || over() {
		t.tripped = true
		t.held[key] = true
		t.metrics.DeletionsHeld.Set(float64(len(t.held)))
		return false
	}
	t.started[kind] = append(recent, now)
	return true
}

// forget drops a held key whose deletion is no longer wanted (the user
// came back).
func (t *threshold) forget(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.held, key)
	t.metrics.DeletionsHeld.Set(float64(len(t.held)))
}

// approve lets the given keys delete. The approval is also in the keys'
// records; this one covers a reconcile that read the record just before.
func (t *threshold) approve(keys []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		t.approved[k] = true
		t.release(k)
	}
}

// release stops holding key. Once nothing is held the threshold counts
// afresh.
func (t *threshold) release(key string) {
	delete(t.held, key)
	if len(t.held) == 0 {
		t.tripped = false
		clear(t.started)
	}
	t.metrics.DeletionsHeld.Set(float64(len(t.held)))
}

// hold marks a key held without counting it, for restoring the held
// deletions recorded before a restart: the threshold stays tripped.
func (t *threshold) hold(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tripped = true
	t.held[key] = true
	t.metrics.DeletionsHeld.Set(float64(len(t.held)))
}
