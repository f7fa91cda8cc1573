package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/sagebridge/sagebridge/internal/store"
)

// Single values under one key of one bucket (status records, tokens,
// signing keys, sign-in blobs) share these accessors; callers add what
// the value is to the error.

// putValue stores data under key, replacing any value.
func (s *Store) putValue(ctx context.Context, b bucket, key string, data []byte) error {
	return s.submit(ctx, func(w *wtx) error {
		return b.in(w.Tx).Put([]byte(key), data)
	})
}

// createValue stores data under key, store.ErrConflict if the key is taken.
func (s *Store) createValue(ctx context.Context, b bucket, key string, data []byte) error {
	return s.submit(ctx, func(w *wtx) error {
		bk := b.in(w.Tx)
		if bk.Get([]byte(key)) != nil {
			return store.ErrConflict
		}
		return bk.Put([]byte(key), data)
	})
}

// getValue returns a copy of the value under key, store.ErrNotFound if
// there is none.
func (s *Store) getValue(ctx context.Context, b bucket, key string) ([]byte, error) {
	var data []byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := b.in(tx).Get([]byte(key))
		if v == nil {
			return store.ErrNotFound
		}
		// v points into the mmap, valid only while tx is open.
		data = bytes.Clone(v)
		return nil
	})
	return data, err
}

// deleteValue removes key, store.ErrNotFound if there is none.
func (s *Store) deleteValue(ctx context.Context, b bucket, key string) error {
	return s.submit(ctx, func(w *wtx) error {
		bk := b.in(w.Tx)
		if bk.Get([]byte(key)) == nil {
			return store.ErrNotFound
		}
		return bk.Delete([]byte(key))
	})
}

// createRecord stores v as JSON under key, store.ErrConflict if the key is
// taken.
func (s *Store) createRecord(ctx context.Context, b bucket, key string, v any) error {
	raw, err := encode(v)
	if err != nil {
		return err
	}
	return s.createValue(ctx, b, key, raw)
}

// allRecords decodes every value of b as JSON, in key order.
func allRecords[T any](ctx context.Context, s *Store, b bucket) ([]T, error) {
	var out []T
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return b.in(tx).ForEach(func(k, v []byte) error {
			var rec T
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			out = append(out, rec)
			return nil
		})
	})
	return out, err
}
