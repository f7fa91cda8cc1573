package scim

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

// HashToken is how tokens are kept: only this hash is stored, so a copy of
// the database does not hand out working credentials.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// NewToken returns a fresh random bearer token (256 bits, URL-safe).
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return "sbt_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// NewUUID returns a random (version 4) UUID, the id of new resources.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

type actorKey struct{}

// Actor returns the name of the token that authenticated the request.
func Actor(ctx context.Context) string {
	s, _ := ctx.Value(actorKey{}).(string)
	return s
}

var errUnauthorized = errorf(http.StatusUnauthorized, "", "missing or invalid bearer token")

// authenticate checks the bearer token against every stored token hash.
// Every hash is compared, in constant time, so the time taken says nothing
// about which token (if any) came close. The tokens are read per request so
// that a revocation through the CLI takes effect at once.
func (h *Handler) authenticate(r *http.Request) error {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return errUnauthorized
	}
	tokens, err := h.Store.Tokens(r.Context())
	if err != nil {
		return fmt.Errorf("read tokens: %w", err)
	}
	presented := HashToken(strings.TrimSpace(token))
	match := ""
	for _, t := range tokens {
		if subtle.ConstantTimeCompare(presented, t.Hash) == 1 {
			match = t.Name
		}
	}
	if match == "" {
		return errUnauthorized
	}
	*r = *r.WithContext(context.WithValue(r.Context(), actorKey{}, match))
	return nil
}
