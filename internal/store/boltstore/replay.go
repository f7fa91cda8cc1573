package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/sagebridge/sagebridge/internal/store"
)

// One-time ids live twice: replay (id -> expiry) answers "seen?" with one
// Get, replay_expiry (expiry + id) lets PruneSeen walk only what expired,
// so pruning costs what it removes whatever the cache holds. New ids reach
// them through the replay log (replaylog.go), which makes MarkSeen durable
// at the cost of one append and a share of one fdatasync.

// MarkSeen records id until expires, or fails with store.ErrAlreadySeen.
func (s *Store) MarkSeen(ctx context.Context, id string, expires time.Time) error {
	return s.StartMarkSeen(ctx, id, expires)()
}

// StartMarkSeen is MarkSeen in two steps: it claims id and starts making
// its record durable, and wait returns what MarkSeen would, once the
// record is on disk. Whatever the caller does between the two overlaps
// the disk's flush, also on a single core. Call wait once: the log
// counts the callers between the two steps to choose how it syncs.
func (s *Store) StartMarkSeen(ctx context.Context, id string, expires time.Time) (wait func() error) {
	fail := func(err error) func() error {
		err = fmt.Errorf("mark seen %q: %w", id, err)
		return func() error { return err }
	}
	switch {
	case id == "":
		return fail(errors.New("empty id"))
	case len(id) > maxSeenID:
		return fail(fmt.Errorf("id longer than %d bytes", maxSeenID))
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return fail(store.ErrClosed)
	}
	c, err := s.replay.record(s.db, id, uint64(expires.UnixNano()))
	s.mu.RUnlock()
	if err != nil {
		return fail(err)
	}
	return func() error {
		if err := s.replay.wait(ctx, c); err != nil {
			return fmt.Errorf("mark seen %q: %w", id, err)
		}
		return nil
	}
}

// flushSeen moves the ids the replay log holds into the replay buckets.
func (s *Store) flushSeen() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	return s.replay.flush(s.db)
}

// PruneSeen removes up to limit ids (DefaultLimit when limit <= 0, at most
// MaxLimit) that expired before the given time.
func (s *Store) PruneSeen(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	if err := s.flushSeen(); err != nil {
		return 0, fmt.Errorf("prune seen ids before %s: %w", before.Format(time.RFC3339), err)
	}
	cut := u64(uint64(before.UnixNano()))
	var n int
	err := s.submit(ctx, func(w *wtx) error {
		byExp, ids := bucketReplayExpiry.in(w.Tx), bucketReplay.in(w.Tx)
		// Collect first: deleting under a moving cursor can skip keys.
		var expired [][]byte
		c := byExp.Cursor()
		for k, _ := c.First(); k != nil && len(expired) < limit; k, _ = c.Next() {
			if len(k) < 8 {
				return fmt.Errorf("replay expiry key %x: shorter than its timestamp: store damaged", k)
			}
			if bytes.Compare(k[:8], cut) >= 0 {
				break
			}
			expired = append(expired, bytes.Clone(k))
		}
		for _, k := range expired {
			if err := byExp.Delete(k); err != nil {
				return err
			}
			id := k[8:]
			// Delete the id only if this entry is the one it points at.
			if v := ids.Get(id); len(v) == 8 && binary.BigEndian.Uint64(v) == binary.BigEndian.Uint64(k[:8]) {
				if err := ids.Delete(id); err != nil {
					return err
				}
			}
		}
		n = len(expired)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune seen ids before %s: %w", before.Format(time.RFC3339), err)
	}
	return n, nil
}
