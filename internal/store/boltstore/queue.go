package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sagebridge/sagebridge/internal/store"
)

// The queue is two buckets. queue orders items by due time: its key is the
// 8-byte big-endian due (unix nanoseconds) followed by the item key, so a
// cursor from the start yields the earliest first. queue_keys maps an item
// key to its current due and gen, so enqueueing a key that is already
// queued finds and replaces its entry instead of adding a second one.

// dueNanos orders due times as unsigned keys; times before 1970 sort as
// 1970, which is as due as anything can be.
func dueNanos(t time.Time) uint64 {
	n := t.UnixNano()
	if n < 0 {
		return 0
	}
	return uint64(n)
}

func queueKey(due uint64, key string) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(key)), due)
	return append(k, key...)
}

// queueState is the queue_keys value of a key: its due and its gen.
func queueState(b *bolt.Bucket, key string) (due, gen uint64, ok bool, err error) {
	v := b.Get([]byte(key))
	if v == nil {
		return 0, 0, false, nil
	}
	if len(v) != 16 {
		return 0, 0, false, fmt.Errorf("queue state of %s: want 16 bytes, found %d", key, len(v))
	}
	return binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint64(v[8:]), true, nil
}

// putQueueItem writes it at due, recording due and gen for its key. Any
// older entry of the key must have been removed by the caller.
func putQueueItem(tx *bolt.Tx, due uint64, it store.QueueItem) error {
	it.Due = time.Unix(0, int64(due)).UTC()
	raw, err := encode(it)
	if err != nil {
		return fmt.Errorf("encode queue item %s: %w", it.Key, err)
	}
	if err := bucketQueue.in(tx).Put(queueKey(due, it.Key), raw); err != nil {
		return fmt.Errorf("queue %s: %w", it.Key, err)
	}
	state := binary.BigEndian.AppendUint64(u64(due), it.Gen)
	if err := bucketQueueKeys.in(tx).Put([]byte(it.Key), state); err != nil {
		return fmt.Errorf("queue %s: %w", it.Key, err)
	}
	return nil
}

// enqueue queues key at due in w. A key already queued keeps the earlier
// of its due and this one, so a burst of changes cannot push a pending sync
// back; it gets a new gen, so a worker busy with the old gen cannot
// complete the new request away; its attempts and last error start over,
// since they described the request this one replaces; and it takes this
// write's request id, or keeps its own when this write has none (a resync
// re-enqueueing it is nobody's request).
func enqueue(w *wtx, key string, due time.Time) error {
	keys := bucketQueueKeys.in(w.Tx)
	gen, err := keys.NextSequence()
	if err != nil {
		return fmt.Errorf("queue %s: %w", key, err)
	}
	d := dueNanos(due)
	oldDue, _, queued, err := queueState(keys, key)
	if err != nil {
		return err
	}
	rid := w.requestID
	if queued {
		d = min(d, oldDue)
		q := bucketQueue.in(w.Tx)
		if rid == "" {
			if rid, err = queuedRequestID(q, oldDue, key); err != nil {
				return err
			}
		}
		if err := q.Delete(queueKey(oldDue, key)); err != nil {
			return fmt.Errorf("queue %s: %w", key, err)
		}
	} else if err := addCounter(w.Tx, metaQueueDepth, 1); err != nil {
		return err
	}
	if err := putQueueItem(w.Tx, d, store.QueueItem{Key: key, Gen: gen, RequestID: rid}); err != nil {
		return err
	}
	w.enqueued = true
	return nil
}

// queuedRequestID reads the request id of key's entry at due.
func queuedRequestID(q *bolt.Bucket, due uint64, key string) (string, error) {
	var it struct {
		RequestID string `json:"requestId"`
	}
	if err := json.Unmarshal(q.Get(queueKey(due, key)), &it); err != nil {
		return "", fmt.Errorf("decode queue item %s: %w", key, err)
	}
	return it.RequestID, nil
}

// Enqueue puts keys on the sync queue, due now.
func (s *Store) Enqueue(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	for _, k := range keys {
		if k == "" {
			return errors.New("enqueue: empty key")
		}
	}
	now := s.stamp()
	err := s.submit(ctx, func(w *wtx) error {
		for _, k := range keys {
			if err := enqueue(w, k, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("enqueue %q: %w", keys, err)
	}
	return nil
}

// DueItems returns up to limit items (DefaultLimit when limit <= 0, at
// most MaxLimit) due at or before now, earliest first.
func (s *Store) DueItems(ctx context.Context, now time.Time, limit int) ([]store.QueueItem, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	until := dueNanos(now)
	var items []store.QueueItem
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := bucketQueue.in(tx).Cursor()
		for k, v := c.First(); k != nil && len(items) < limit; k, v = c.Next() {
			if len(k) < 8 || binary.BigEndian.Uint64(k[:8]) > until {
				break
			}
			var it store.QueueItem
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("decode queue item %q: %w", k[8:], err)
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("due items: %w", err)
	}
	return items, nil
}

// NextDue returns the earliest due time, or false when the queue is empty.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var due time.Time
	var ok bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		k, _ := bucketQueue.in(tx).Cursor().First()
		if k == nil {
			return nil
		}
		if len(k) < 8 {
			return fmt.Errorf("queue key %q is shorter than its due time", k)
		}
		due, ok = time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(), true
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	return due, ok, nil
}

// Complete removes the item if it is still at generation gen; otherwise
// the key was enqueued again meanwhile and stays.
func (s *Store) Complete(ctx context.Context, key string, gen uint64) error {
	err := s.submit(ctx, func(w *wtx) error {
		keys := bucketQueueKeys.in(w.Tx)
		due, cur, queued, err := queueState(keys, key)
		if err != nil || !queued || cur != gen {
			return err
		}
		if err := bucketQueue.in(w.Tx).Delete(queueKey(due, key)); err != nil {
			return err
		}
		if err := keys.Delete([]byte(key)); err != nil {
			return err
		}
		return addCounter(w.Tx, metaQueueDepth, -1)
	})
	if err != nil {
		return fmt.Errorf("complete %s gen %d: %w", key, gen, err)
	}
	return nil
}

// Reschedule moves the item to due, if it is still at generation gen. It
// signals QueueChanged too: a dispatcher sleeping until the old earliest
// due may have to wake earlier.
func (s *Store) Reschedule(ctx context.Context, key string, gen uint64, due time.Time, attempts int, lastErr string) error {
	d := dueNanos(due)
	err := s.submit(ctx, func(w *wtx) error {
		oldDue, cur, queued, err := queueState(bucketQueueKeys.in(w.Tx), key)
		if err != nil || !queued || cur != gen {
			return err
		}
		q := bucketQueue.in(w.Tx)
		// A retry is still the same request's doing: keep its id.
		rid, err := queuedRequestID(q, oldDue, key)
		if err != nil {
			return err
		}
		if err := q.Delete(queueKey(oldDue, key)); err != nil {
			return err
		}
		it := store.QueueItem{Key: key, Gen: gen, Attempts: attempts, LastError: lastErr, RequestID: rid}
		if err := putQueueItem(w.Tx, d, it); err != nil {
			return err
		}
		w.enqueued = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("reschedule %s gen %d: %w", key, gen, err)
	}
	return nil
}

// QueueItem returns the queued item of key, store.ErrNotFound when the key
// is not queued. queue_keys gives its due, so this is two point reads.
func (s *Store) QueueItem(ctx context.Context, key string) (store.QueueItem, error) {
	var it store.QueueItem
	err := s.view(ctx, func(tx *bolt.Tx) error {
		due, _, queued, err := queueState(bucketQueueKeys.in(tx), key)
		if err != nil {
			return err
		}
		if !queued {
			return store.ErrNotFound
		}
		v := bucketQueue.in(tx).Get(queueKey(due, key))
		if v == nil {
			return fmt.Errorf("queue_keys holds %s but the queue does not: store damaged", key)
		}
		if err := json.Unmarshal(v, &it); err != nil {
			return fmt.Errorf("decode queue item %s: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return store.QueueItem{}, fmt.Errorf("queue item %s: %w", key, err)
	}
	return it, nil
}

// CountQueue reads the whole queue once. The due count comes from the keys
// alone (the due time is their prefix); only the values are decoded for
// the retry state.
func (s *Store) CountQueue(ctx context.Context, dueBy time.Time) (store.QueueCounts, error) {
	until := dueNanos(dueBy)
	var qc store.QueueCounts
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := bucketQueue.in(tx).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) < 8 {
				return fmt.Errorf("queue key %q is shorter than its due time", k)
			}
			due := binary.BigEndian.Uint64(k[:8])
			if qc.Next.IsZero() {
				qc.Next = time.Unix(0, int64(due)).UTC()
			}
			if due <= until {
				qc.Due++
			}
			var it struct {
				Attempts  int    `json:"attempts"`
				LastError string `json:"lastError"`
			}
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("decode queue item %q: %w", k[8:], err)
			}
			if it.Attempts > 0 || it.LastError != "" {
				qc.Retrying++
			}
		}
		return nil
	})
	if err != nil {
		return store.QueueCounts{}, fmt.Errorf("count queue: %w", err)
	}
	return qc, nil
}
