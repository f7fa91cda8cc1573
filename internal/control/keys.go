package control

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Keys is what the CLI can ask of the SAML IdP signing keys.
type Keys interface {
	// SigningKeys lists the keys the IdP metadata publishes.
	SigningKeys(ctx context.Context) ([]KeyInfo, error)
	// RotateKey publishes a new key at once; it signs from the returned
	// time, once the sync has had time to push it to the IAM SAML provider.
	RotateKey(ctx context.Context) (KeyRotation, error)
}

// KeyInfo describes a published signing key.
type KeyInfo struct {
	ID string `json:"id"`
	// State is signing, next (signs from SignFrom) or previous (replaced,
	// published while assertions it signed may be in flight).
	State    string    `json:"state"`
	SignFrom time.Time `json:"signFrom"`
	NotAfter time.Time `json:"notAfter"`
	FromFile bool      `json:"fromFile"`
}

// KeyRotation is what RotateKey did.
type KeyRotation struct {
	KeyID    string    `json:"keyId"`
	SignFrom time.Time `json:"signFrom"`
}

// ErrSignInDisabled is returned by every Keys method of a daemon that
// bridges no sign-in.
var ErrSignInDisabled = errors.New("sign-in is disabled")

// KeysDisabled is the Keys of a daemon without a saml section.
func KeysDisabled(reason string) Keys { return keysDisabled{reason} }

type keysDisabled struct{ reason string }

func (d keysDisabled) err() error { return fmt.Errorf("%s: %w", d.reason, ErrSignInDisabled) }

func (d keysDisabled) SigningKeys(context.Context) ([]KeyInfo, error) { return nil, d.err() }
func (d keysDisabled) RotateKey(context.Context) (KeyRotation, error) { return KeyRotation{}, d.err() }

func mountKeys(mux *http.ServeMux, k Keys) {
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		keys, err := k.SigningKeys(r.Context())
		respond(w, keys, err)
	})
	mux.HandleFunc("POST /keys/rotate", func(w http.ResponseWriter, r *http.Request) {
		rot, err := k.RotateKey(r.Context())
		respond(w, rot, err)
	})
}

func (c *Client) SigningKeys(ctx context.Context) ([]KeyInfo, error) {
	var keys []KeyInfo
	err := c.do(ctx, http.MethodGet, "/keys", nil, &keys)
	return keys, err
}

func (c *Client) RotateKey(ctx context.Context) (KeyRotation, error) {
	var rot KeyRotation
	err := c.do(ctx, http.MethodPost, "/keys/rotate", nil, &rot)
	return rot, err
}
