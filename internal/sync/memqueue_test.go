package sync

import (
	"context"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"github.com/sagebridge/sagebridge/internal/store"
)

// memQueue is the durable queue's contract in memory, with boltstore's
// semantics: one entry per key, a new gen per Enqueue, the earlier due
// kept, attempts reset by Enqueue, Complete and Reschedule conditional on
// gen, QueueChanged signalled without blocking.
type memQueue struct {
	mu      gosync.Mutex
	now     func() time.Time
	gen     uint64
	items   map[string]store.QueueItem
	changed chan struct{}
}

func newMemQueue(now func() time.Time) *memQueue {
	return &memQueue{now: now, items: map[string]store.QueueItem{}, changed: make(chan struct{}, 1)}
}

func (q *memQueue) signal() {
	select {
	case q.changed <- struct{}{}:
	default:
	}
}

func (q *memQueue) Enqueue(_ context.Context, keys ...string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	for _, k := range keys {
		q.gen++
		due := now
		if old, ok := q.items[k]; ok && old.Due.Before(due) {
			due = old.Due
		}
		q.items[k] = store.QueueItem{Key: k, Due: due, Gen: q.gen}
	}
	q.signal()
	return nil
}

func (q *memQueue) DueItems(_ context.Context, now time.Time, limit int) ([]store.QueueItem, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []store.QueueItem
	for _, it := range q.items {
		if !it.Due.After(now) {
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b store.QueueItem) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (q *memQueue) Complete(_ context.Context, key string, gen uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if it, ok := q.items[key]; ok && it.Gen == gen {
		delete(q.items, key)
	}
	return nil
}

func (q *memQueue) Reschedule(_ context.Context, key string, gen uint64, due time.Time, attempts int, lastErr string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if it, ok := q.items[key]; ok && it.Gen == gen {
		q.items[key] = store.QueueItem{Key: key, Due: due, Gen: gen, Attempts: attempts, LastError: lastErr}
		q.signal()
	}
	return nil
}

func (q *memQueue) QueueChanged() <-chan struct{} { return q.changed }

func (q *memQueue) QueueItem(_ context.Context, key string) (store.QueueItem, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	it, ok := q.items[key]
	if !ok {
		return store.QueueItem{}, store.ErrNotFound
	}
	return it, nil
}

func (q *memQueue) get(key string) (store.QueueItem, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	it, ok := q.items[key]
	return it, ok
}

func (q *memQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
