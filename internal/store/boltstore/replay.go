package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sagebridge/sagebridge/internal/store"
)

// One-time ids live twice: replay (id -> expiry) answers "seen?" with one
// Get, replay_expiry (expiry + id) lets PruneSeen walk only what expired,
// so pruning costs what it removes whatever the cache holds.

// MarkSeen records id until expires, or fails with store.ErrAlreadySeen.
func (s *Store) MarkSeen(ctx context.Context, id string, expires time.Time) error {
	if id == "" {
		return errors.New("mark seen: empty id")
	}
	exp := u64(uint64(expires.UnixNano()))
	err := s.submit(ctx, func(w *wtx) error {
		ids := bucketReplay.in(w.Tx)
		if ids.Get([]byte(id)) != nil {
			return store.ErrAlreadySeen
		}
		if err := ids.Put([]byte(id), exp); err != nil {
			return err
		}
		return bucketReplayExpiry.in(w.Tx).Put(append(slices.Clone(exp), id...), nil)
	})
	if err != nil {
		return fmt.Errorf("mark seen %q: %w", id, err)
	}
	return nil
}

// PruneSeen removes up to limit ids (DefaultLimit when limit <= 0, at most
// MaxLimit) that expired before the given time.
func (s *Store) PruneSeen(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
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
