// Package control is the local administration API: token management,
// backups (Admin) and the sync engine's plan, status and approvals (Sync).
// bbolt holds an exclusive lock on the database, so while the daemon runs
// the CLI reaches the store through the daemon's Unix socket; when it does
// not run, the CLI opens the store itself. Both paths share the Admin and
// Sync interfaces, so every command behaves the same either way.
package control

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/sagebridge/sagebridge/internal/scim"
	"github.com/sagebridge/sagebridge/internal/store"
)

// SocketName is the control socket's file name in the data directory.
const SocketName = "bridge.sock"

// TokenInfo describes a token without its secret.
type TokenInfo struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// Admin is what the CLI can ask of a store.
type Admin interface {
	// CreateToken returns the new token's secret; it is never shown again.
	CreateToken(ctx context.Context, name string) (string, error)
	Tokens(ctx context.Context) ([]TokenInfo, error)
	RevokeToken(ctx context.Context, name string) error
	Backup(ctx context.Context, w io.Writer) (int64, error)
}

// ErrInvalidName is returned for token names outside [A-Za-z0-9._-]{1,64}.
var ErrInvalidName = errors.New("token names are 1 to 64 characters of A-Z a-z 0-9 . _ -")

var tokenName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Local implements Admin directly on a store.
type Local struct {
	Store store.Store
	Now   func() time.Time
}

func (l Local) CreateToken(ctx context.Context, name string) (string, error) {
	if !tokenName.MatchString(name) {
		return "", fmt.Errorf("token %q: %w", name, ErrInvalidName)
	}
	secret, err := scim.NewToken()
	if err != nil {
		return "", err
	}
	err = l.Store.CreateToken(ctx, store.Token{Name: name, Hash: scim.HashToken(secret), Created: l.Now().UTC()})
	if err != nil {
		return "", fmt.Errorf("create token %s: %w", name, err)
	}
	return secret, nil
}

func (l Local) Tokens(ctx context.Context) ([]TokenInfo, error) {
	tokens, err := l.Store.Tokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out := make([]TokenInfo, 0, len(tokens))
	for _, t := range tokens {
		out = append(out, TokenInfo{Name: t.Name, Created: t.Created})
	}
	return out, nil
}

func (l Local) RevokeToken(ctx context.Context, name string) error {
	if err := l.Store.DeleteToken(ctx, name); err != nil {
		return fmt.Errorf("revoke token %s: %w", name, err)
	}
	return nil
}

func (l Local) Backup(ctx context.Context, w io.Writer) (int64, error) {
	n, err := l.Store.Backup(ctx, w)
	if err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	return n, nil
}
