package boltstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/sagebridge/sagebridge/internal/store"
)

// CreateToken stores t under its name; a zero Created becomes now.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	if t.Name == "" {
		return errors.New("create token: name is empty")
	}
	if t.Created.IsZero() {
		t.Created = s.stamp()
	} else {
		t.Created = t.Created.UTC().Round(0)
	}
	raw, err := encode(t)
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.Name, err)
	}
	err = s.submit(ctx, func(w *wtx) error {
		b := bucketTokens.in(w.Tx)
		if b.Get([]byte(t.Name)) != nil {
			return store.ErrConflict
		}
		return b.Put([]byte(t.Name), raw)
	})
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.Name, err)
	}
	return nil
}

// Tokens returns every token, sorted by name (the bucket's key order).
func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	var tokens []store.Token
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return bucketTokens.in(tx).ForEach(func(k, v []byte) error {
			var t store.Token
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("decode token %s: %w", k, err)
			}
			tokens = append(tokens, t)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return tokens, nil
}

// DeleteToken removes the named token, store.ErrNotFound if there is none.
func (s *Store) DeleteToken(ctx context.Context, name string) error {
	err := s.submit(ctx, func(w *wtx) error {
		b := bucketTokens.in(w.Tx)
		if b.Get([]byte(name)) == nil {
			return store.ErrNotFound
		}
		return b.Delete([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("delete token %s: %w", name, err)
	}
	return nil
}
