package boltstore

import (
	"context"
	"errors"
	"fmt"

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
	if err := s.createRecord(ctx, bucketTokens, t.Name, t); err != nil {
		return fmt.Errorf("create token %s: %w", t.Name, err)
	}
	return nil
}

// Tokens returns every token, sorted by name (the bucket's key order).
func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	tokens, err := allRecords[store.Token](ctx, s, bucketTokens)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return tokens, nil
}

// DeleteToken removes the named token, store.ErrNotFound if there is none.
func (s *Store) DeleteToken(ctx context.Context, name string) error {
	if err := s.deleteValue(ctx, bucketTokens, name); err != nil {
		return fmt.Errorf("delete token %s: %w", name, err)
	}
	return nil
}
