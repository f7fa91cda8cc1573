package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/sagebridge/sagebridge/internal/store"
)

// Status records live in sync_status under their queue key. The store
// neither decodes them nor ties them to users or groups: deleting a user
// leaves its record for the sync to deprovision from.

// PutStatus stores data as the record of key.
func (s *Store) PutStatus(ctx context.Context, key string, data []byte) error {
	if key == "" {
		return errors.New("put status: empty key")
	}
	if err := s.putValue(ctx, bucketStatus, key, data); err != nil {
		return fmt.Errorf("put status %s: %w", key, err)
	}
	return nil
}

// GetStatus returns a copy of the record of key, or store.ErrNotFound.
func (s *Store) GetStatus(ctx context.Context, key string) ([]byte, error) {
	data, err := s.getValue(ctx, bucketStatus, key)
	if err != nil {
		return nil, fmt.Errorf("get status %s: %w", key, err)
	}
	return data, nil
}

// DeleteStatus removes the record of key, store.ErrNotFound if there is
// none.
func (s *Store) DeleteStatus(ctx context.Context, key string) error {
	if err := s.deleteValue(ctx, bucketStatus, key); err != nil {
		return fmt.Errorf("delete status %s: %w", key, err)
	}
	return nil
}

// ScanStatus returns up to limit records (DefaultLimit when limit <= 0, at
// most MaxLimit) with keys after the given one, each page in its own read
// transaction.
func (s *Store) ScanStatus(ctx context.Context, after string, limit int) (store.Page[store.StatusRecord], error) {
	var p store.Page[store.StatusRecord]
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		p, err = scanPage(bucketStatus.in(tx), after, limit, func(key string, v []byte) (store.StatusRecord, error) {
			return store.StatusRecord{Key: key, Data: bytes.Clone(v)}, nil
		})
		return err
	})
	if err != nil {
		return store.Page[store.StatusRecord]{}, fmt.Errorf("scan status after %q: %w", after, err)
	}
	return p, nil
}
