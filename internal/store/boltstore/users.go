package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/sagebridge/sagebridge/internal/store"
)

// MaxLimit caps a scan page, so that one read transaction never has to walk
// a whole bucket.
const MaxLimit = 1000

// errStale tells an optimistic update that the record changed between its
// read and its write; the update reads again and calls fn again.
var errStale = errors.New("record changed since it was read")

// CreateUser stores u with Version 1 and Created = Modified = now. The id
// and the folded userName must both be free, else store.ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	if err := checkID("user", u.ID); err != nil {
		return store.User{}, fmt.Errorf("create user: %w", err)
	}
	if u.UserName == "" {
		return store.User{}, fmt.Errorf("create user %s: userName is empty", u.ID)
	}
	u, err := normalizeUser(u)
	if err != nil {
		return store.User{}, fmt.Errorf("create user %s: %w", u.ID, err)
	}
	now := s.stamp()
	u.Meta = store.Meta{Version: 1, Created: now, Modified: now}
	rec, err := newUserRec(u)
	if err != nil {
		return store.User{}, fmt.Errorf("create user: %w", err)
	}
	err = s.submit(ctx, func(w *wtx) error {
		if bucketUsers.in(w.Tx).Get([]byte(u.ID)) != nil {
			return fmt.Errorf("id is taken: %w", store.ErrConflict)
		}
		if err := putUser(w.Tx, nil, rec); err != nil {
			return err
		}
		if err := addCounter(w.Tx, metaUsers, 1); err != nil {
			return err
		}
		return enqueue(w, store.UserKey(u.ID), now)
	})
	if err != nil {
		return store.User{}, fmt.Errorf("create user %s: %w", u.ID, err)
	}
	return u, nil
}

// normalizeUser gives u the form it has once stored and read back, so that
// what a write returns equals what a read returns, and so that comparing
// two users tells whether an update changes anything.
func normalizeUser(u store.User) (store.User, error) {
	data, err := normalizeData(u.Data)
	if err != nil {
		return store.User{}, err
	}
	u.Data = data
	if len(u.Emails) == 0 {
		u.Emails = nil
	} else {
		u.Emails = slices.Clone(u.Emails)
	}
	return u, nil
}

// cloneUser is handed to an update fn, so that fn editing slices in place
// cannot alter the record the store diffs against.
func cloneUser(u store.User) store.User {
	u.Emails = slices.Clone(u.Emails)
	u.Data = bytes.Clone(u.Data)
	return u
}

func sameUser(a, b store.User) bool {
	return a.UserName == b.UserName &&
		a.ExternalID == b.ExternalID &&
		a.Active == b.Active &&
		slices.Equal(a.Emails, b.Emails) &&
		bytes.Equal(a.Data, b.Data)
}

// GetUser returns the user with that id, or store.ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (store.User, error) {
	var u store.User
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		u, err = getUser(tx, id)
		return err
	})
	if err != nil {
		return store.User{}, fmt.Errorf("get user %s: %w", id, err)
	}
	return u, nil
}

// UpdateUser is optimistic: fn runs outside the write transaction, on the
// record as one read saw it, and the write goes through only if the stored
// record is still byte for byte that one; otherwise fn runs again on the
// fresh record, until ctx ends.
func (s *Store) UpdateUser(ctx context.Context, id string, fn store.UserUpdate) (store.User, error) {
	for {
		next, err := s.updateUserOnce(ctx, id, fn)
		if errors.Is(err, errStale) {
			continue
		}
		if err != nil {
			return store.User{}, fmt.Errorf("update user %s: %w", id, err)
		}
		return next, nil
	}
}

func (s *Store) updateUserOnce(ctx context.Context, id string, fn store.UserUpdate) (store.User, error) {
	var cur store.User
	var raw []byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		raw = getUserRaw(tx, id)
		if raw == nil {
			return store.ErrNotFound
		}
		var err error
		cur, err = decodeUser(id, raw)
		return err
	})
	if err != nil {
		return store.User{}, err
	}
	next, err := fn(cloneUser(cur))
	if err != nil {
		return store.User{}, err
	}
	if next.UserName == "" {
		return store.User{}, errors.New("userName is empty")
	}
	if next, err = normalizeUser(next); err != nil {
		return store.User{}, err
	}
	next.ID, next.Meta = id, cur.Meta
	if sameUser(cur, next) {
		return cur, nil
	}
	next.Version = cur.Version + 1
	next.Modified = s.stamp()
	rec, err := newUserRec(next)
	if err != nil {
		return store.User{}, err
	}
	err = s.submit(ctx, func(w *wtx) error {
		if !bytes.Equal(bucketUsers.in(w.Tx).Get([]byte(id)), raw) {
			return errStale
		}
		if err := putUser(w.Tx, &cur, rec); err != nil {
			return err
		}
		return enqueue(w, store.UserKey(id), next.Modified)
	})
	if err != nil {
		return store.User{}, err
	}
	return next, nil
}

// DeleteUser removes the user, its index entries and its memberships in
// both directions; every group it leaves gets a new version.
func (s *Store) DeleteUser(ctx context.Context, id string, ifVersion uint64) error {
	now := s.stamp()
	err := s.submit(ctx, func(w *wtx) error {
		u, err := getUser(w.Tx, id)
		if err != nil {
			return err
		}
		if ifVersion != 0 && u.Version != ifVersion {
			return fmt.Errorf("stored version %d, expected %d: %w", u.Version, ifVersion, store.ErrVersionMismatch)
		}
		// Collected before deleting: deleting under a live cursor skips keys.
		for _, gid := range pairsOf(bucketMemberOf.in(w.Tx), id) {
			if err := removeMember(w.Tx, gid, id); err != nil {
				return err
			}
			if err := touchGroup(w.Tx, gid, now); err != nil {
				return err
			}
		}
		if err := deleteUserRecord(w.Tx, u); err != nil {
			return err
		}
		if err := addCounter(w.Tx, metaUsers, -1); err != nil {
			return err
		}
		return enqueue(w, store.UserKey(id), now)
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}

// ScanUsers returns up to limit users (DefaultLimit when limit <= 0, at
// most MaxLimit) with ids after the given one, each page in its own read
// transaction.
func (s *Store) ScanUsers(ctx context.Context, after string, limit int) (store.Page[store.User], error) {
	var p store.Page[store.User]
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		p, err = scanPage(bucketUsers.in(tx), after, limit, decodeUser)
		return err
	})
	if err != nil {
		return store.Page[store.User]{}, fmt.Errorf("scan users after %q: %w", after, err)
	}
	return p, nil
}

func (s *Store) ScanUserIDs(ctx context.Context, after string, limit int) (store.Page[string], error) {
	var p store.Page[string]
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		p, err = scanPage(bucketUsers.in(tx), after, limit, func(id string, _ []byte) (string, error) { return id, nil })
		return err
	})
	if err != nil {
		return store.Page[string]{}, fmt.Errorf("scan user ids after %q: %w", after, err)
	}
	return p, nil
}

func (s *Store) UserIDs(ctx context.Context, offset, limit int) ([]string, error) {
	return s.idsAt(ctx, bucketUsers, offset, limit)
}

// idsAt walks keys only: skipping a record costs a cursor step, not a decode.
func (s *Store) idsAt(ctx context.Context, bkt bucket, offset, limit int) ([]string, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	var ids []string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := bkt.in(tx).Cursor()
		k, _ := c.First()
		for i := 0; k != nil && i < offset; i++ {
			k, _ = c.Next()
		}
		for ; k != nil && len(ids) < limit; k, _ = c.Next() {
			ids = append(ids, string(k))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ids at offset %d: %w", offset, err)
	}
	return ids, nil
}

func scanPage[T any](b *bolt.Bucket, after string, limit int, decode func(id string, raw []byte) (T, error)) (store.Page[T], error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	var p store.Page[T]
	var last string
	c := b.Cursor()
	k, v := c.Seek([]byte(after))
	if k != nil && string(k) == after {
		k, v = c.Next()
	}
	for ; k != nil; k, v = c.Next() {
		if len(p.Items) == limit {
			// Another record follows, so this is not the last page.
			p.Next = last
			break
		}
		last = string(k)
		item, err := decode(last, v)
		if err != nil {
			return store.Page[T]{}, err
		}
		p.Items = append(p.Items, item)
	}
	return p, nil
}
