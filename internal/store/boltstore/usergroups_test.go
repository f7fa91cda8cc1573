package boltstore

import (
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/sagebridge/sagebridge/internal/store"
)

// A membership whose group has no record (a file damaged outside the
// bridge) fails UserGroups with an error of its own: ErrNotFound would say
// that the user is gone, and the sync would take the user out of AWS.
func TestUserGroupsReportsADanglingMembership(t *testing.T) {
	ctx := t.Context()
	s := openAt(t, filepath.Join(t.TempDir(), "sagebridge.db"), Options{})
	if _, err := s.CreateUser(ctx, store.User{ID: "u1", UserName: "Ada"}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return bucketMemberOf.in(tx).Put(pairKey("u1", "g-without-record"), nil)
	}); err != nil {
		t.Fatal(err)
	}
	_, err := s.UserGroups(ctx, "u1")
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UserGroups = %v, want an error that is not ErrNotFound", err)
	}
}
