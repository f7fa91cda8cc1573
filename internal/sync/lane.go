package sync

import (
	"cmp"
	"slices"
	"strings"
	gosync "sync"
	"time"
)

// Lane holds the queue keys that other keys wait for, the SAML provider
// and the teams' roles, so that the controller runs them as soon as they
// are due, ahead of keys that were due earlier. The queue orders by due
// time alone, and a new team's users are usually enqueued (by SCIM, when
// they are provisioned) long before the team is: without the lane,
// thousands of users would each run, find their team's roles missing and
// wait, before the team ran once.
//
// The lane only remembers keys; the queue stays the truth. A key leaves
// the lane when the controller finds it no longer queued, so the lane
// holds at most the teams and the SAML provider, whatever the number of
// users.
type Lane struct {
	mu gosync.Mutex
	// due is the due time of each key as the queue last had it; zero
	// means unknown (just added, or its run ended), to be looked up.
	due map[string]time.Time
}

// NewLane returns an empty Lane.
func NewLane() *Lane { return &Lane{due: map[string]time.Time{}} }

// laneRank orders the lane: the SAML provider first, since federation
// roles trust it, then the teams. Other kinds do not enter the lane.
func laneRank(key string) (int, bool) {
	switch Kind(key) {
	case kindSAML:
		return 0, true
	case kindTeam:
		return 1, true
	}
	return 0, false
}

// Add puts the keys others wait for into the lane; other keys are
// ignored. Call it after the keys were enqueued: the controller looks each
// one up in the queue before running it.
func (l *Lane) Add(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if _, ok := laneRank(k); ok {
			l.due[k] = time.Time{}
		}
	}
}

// recheck makes the controller look key up again, if it is in the lane:
// its run ended, so it was completed or rescheduled, or enqueued anew
// while it ran.
func (l *Lane) recheck(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.due[key]; ok {
		l.due[key] = time.Time{}
	}
}

// set records the due time the queue has for key.
func (l *Lane) set(key string, due time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.due[key] = due
}

// drop removes a key the queue no longer holds.
func (l *Lane) drop(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.due, key)
}

// candidates returns the keys of the lane that may be due by now and are
// not running, in rank order, and the earliest due time after now, zero
// when none.
func (l *Lane) candidates(now time.Time, running map[string]bool) ([]string, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var keys []string
	var next time.Time
	for k, due := range l.due {
		switch {
		case running[k]:
		case due.After(now):
			next = earliest(next, due)
		default:
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		ra, _ := laneRank(a)
		rb, _ := laneRank(b)
		return cmp.Or(cmp.Compare(ra, rb), strings.Compare(a, b))
	})
	return keys, next
}

// earliest is the earlier of two times, a zero time meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
