package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/sagebridge/sagebridge/internal/store"
)

// CreateSigningKey stores k under its ID, store.ErrConflict if taken.
func (s *Store) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	if k.ID == "" {
		return errors.New("create signing key: empty id")
	}
	k.Created = k.Created.UTC().Round(0)
	k.SignFrom = k.SignFrom.UTC().Round(0)
	if err := s.createRecord(ctx, bucketKeys, k.ID, k); err != nil {
		return fmt.Errorf("create signing key %s: %w", k.ID, err)
	}
	return nil
}

// SigningKeys returns every key in ID order: numerically when both IDs are
// numbers (so "10" follows "9"), otherwise by byte order.
func (s *Store) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	keys, err := allRecords[store.SigningKey](ctx, s, bucketKeys)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	slices.SortFunc(keys, func(a, b store.SigningKey) int { return compareIDs(a.ID, b.ID) })
	return keys, nil
}

func compareIDs(a, b string) int {
	na, errA := strconv.ParseUint(a, 10, 64)
	nb, errB := strconv.ParseUint(b, 10, 64)
	if errA == nil && errB == nil {
		switch {
		case na < nb:
			return -1
		case na > nb:
			return 1
		}
		return 0
	}
	return bytes.Compare([]byte(a), []byte(b))
}

// DeleteSigningKey removes a key, store.ErrNotFound if there is none.
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	if err := s.deleteValue(ctx, bucketKeys, id); err != nil {
		return fmt.Errorf("delete signing key %s: %w", id, err)
	}
	return nil
}

// PutSAMLMeta stores data under name.
func (s *Store) PutSAMLMeta(ctx context.Context, name string, data []byte) error {
	if name == "" {
		return errors.New("put saml meta: empty name")
	}
	if err := s.putValue(ctx, bucketSAMLMeta, name, data); err != nil {
		return fmt.Errorf("put saml meta %s: %w", name, err)
	}
	return nil
}

// SAMLMeta returns a copy of the blob stored under name.
func (s *Store) SAMLMeta(ctx context.Context, name string) ([]byte, error) {
	data, err := s.getValue(ctx, bucketSAMLMeta, name)
	if err != nil {
		return nil, fmt.Errorf("saml meta %s: %w", name, err)
	}
	return data, nil
}

// InitSAMLMeta stores data under name unless the name is taken, and
// returns the stored blob.
func (s *Store) InitSAMLMeta(ctx context.Context, name string, data []byte) ([]byte, error) {
	if name == "" {
		return nil, errors.New("init saml meta: empty name")
	}
	var stored []byte
	err := s.submit(ctx, func(w *wtx) error {
		b := bucketSAMLMeta.in(w.Tx)
		if v := b.Get([]byte(name)); v != nil {
			stored = bytes.Clone(v)
			return nil
		}
		stored = bytes.Clone(data)
		return b.Put([]byte(name), data)
	})
	if err != nil {
		return nil, fmt.Errorf("init saml meta %s: %w", name, err)
	}
	return stored, nil
}
