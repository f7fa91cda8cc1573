package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/sagebridge/sagebridge/internal/store"
)

// Two kinds of index. A unique index maps the (folded) value to the id, so
// a duplicate is one Get away. A non-unique index keeps value NUL id -> empty,
// so several records can share a value and an exact lookup is a prefix
// scan of value NUL.

// fold is the case-insensitive form of a value; see the package doc for
// what strings.ToLower does and does not equate.
func fold(s string) string { return strings.ToLower(s) }

// indexUser moves the index entries of user id from old to cur; either may
// be nil (create, delete).
func indexUser(tx *bolt.Tx, id string, old, cur *store.User) error {
	var oldName, curName string
	var oldExt, curExt, oldMail, curMail []string
	if old != nil {
		oldName, oldExt, oldMail = fold(old.UserName), nonEmpty(old.ExternalID), foldAll(old.Emails)
	}
	if cur != nil {
		curName, curExt, curMail = fold(cur.UserName), nonEmpty(cur.ExternalID), foldAll(cur.Emails)
	}
	if err := syncUnique(bucketUserName.in(tx), id, oldName, curName, "userName"); err != nil {
		return err
	}
	if err := syncMulti(bucketUserExternal.in(tx), id, oldExt, curExt); err != nil {
		return fmt.Errorf("externalId index: %w", err)
	}
	if err := syncMulti(bucketUserEmail.in(tx), id, oldMail, curMail); err != nil {
		return fmt.Errorf("email index: %w", err)
	}
	return nil
}

func indexGroup(tx *bolt.Tx, id string, old, cur *store.Group) error {
	var oldName, curName string
	var oldExt, curExt []string
	if old != nil {
		oldName, oldExt = fold(old.DisplayName), nonEmpty(old.ExternalID)
	}
	if cur != nil {
		curName, curExt = fold(cur.DisplayName), nonEmpty(cur.ExternalID)
	}
	if err := syncUnique(bucketGroupName.in(tx), id, oldName, curName, "displayName"); err != nil {
		return err
	}
	if err := syncMulti(bucketGroupExternal.in(tx), id, oldExt, curExt); err != nil {
		return fmt.Errorf("externalId index: %w", err)
	}
	return nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func foldAll(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s != "" {
			out = append(out, fold(s))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// syncUnique moves id's entry from old to cur ("" = none), refusing a cur
// that belongs to another record.
func syncUnique(b *bolt.Bucket, id, old, cur, attr string) error {
	if old == cur {
		return nil
	}
	if cur != "" {
		if owner := b.Get([]byte(cur)); owner != nil && string(owner) != id {
			return fmt.Errorf("%s %q is taken by %s: %w", attr, cur, owner, store.ErrConflict)
		}
	}
	// Only remove an entry that is ours: a damaged index must not make one
	// record's write delete another record's name.
	if old != "" && string(b.Get([]byte(old))) == id {
		if err := b.Delete([]byte(old)); err != nil {
			return fmt.Errorf("%s index: %w", attr, err)
		}
	}
	if cur != "" {
		if err := b.Put([]byte(cur), []byte(id)); err != nil {
			return fmt.Errorf("%s index: %w", attr, err)
		}
	}
	return nil
}

func syncMulti(b *bolt.Bucket, id string, old, cur []string) error {
	for _, v := range old {
		if !slices.Contains(cur, v) {
			if err := b.Delete(pairKey(v, id)); err != nil {
				return err
			}
		}
	}
	for _, v := range cur {
		if !slices.Contains(old, v) {
			if err := b.Put(pairKey(v, id), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

type indexSpec struct {
	b      bucket
	unique bool
	folded bool
}

var userIndexes = map[store.Index]indexSpec{
	store.IndexUserName:       {b: bucketUserName, unique: true, folded: true},
	store.IndexUserExternalID: {b: bucketUserExternal},
	store.IndexUserEmail:      {b: bucketUserEmail, folded: true},
}

var groupIndexes = map[store.Index]indexSpec{
	store.IndexGroupName:       {b: bucketGroupName, unique: true, folded: true},
	store.IndexGroupExternalID: {b: bucketGroupExternal},
}

// LookupUsers returns the ids of the users matching l, in id order.
func (s *Store) LookupUsers(ctx context.Context, l store.Lookup) ([]string, error) {
	ids, err := s.lookup(ctx, userIndexes, l)
	if err != nil {
		return nil, fmt.Errorf("lookup users by %s: %w", l.Index, err)
	}
	return ids, nil
}

// LookupGroups returns the ids of the groups matching l, in id order.
func (s *Store) LookupGroups(ctx context.Context, l store.Lookup) ([]string, error) {
	ids, err := s.lookup(ctx, groupIndexes, l)
	if err != nil {
		return nil, fmt.Errorf("lookup groups by %s: %w", l.Index, err)
	}
	return ids, nil
}

func (s *Store) lookup(ctx context.Context, indexes map[store.Index]indexSpec, l store.Lookup) ([]string, error) {
	spec, ok := indexes[l.Index]
	if !ok {
		return nil, fmt.Errorf("unknown index %q", l.Index)
	}
	value := l.Value
	if spec.folded {
		value = fold(value)
	}
	var ids []string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := spec.b.in(tx)
		switch {
		case spec.unique && !l.Prefix:
			if id := b.Get([]byte(value)); id != nil {
				ids = append(ids, string(id))
			}
		case spec.unique:
			c := b.Cursor()
			for k, id := c.Seek([]byte(value)); k != nil && bytes.HasPrefix(k, []byte(value)); k, id = c.Next() {
				ids = append(ids, string(id))
			}
		default:
			ids = scanMulti(b, value, l.Prefix)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// scanMulti collects the ids of a non-unique index whose value equals, or
// starts with, value. A value may itself contain NUL, so each key is split
// at its last NUL and the value part compared, rather than trusting the
// key prefix alone.
func scanMulti(b *bolt.Bucket, value string, prefix bool) []string {
	seek := []byte(value)
	if !prefix {
		seek = pairKey(value, "")
	}
	var ids []string
	c := b.Cursor()
	for k, _ := c.Seek(seek); k != nil && bytes.HasPrefix(k, seek); k, _ = c.Next() {
		v, id, ok := splitPair(k)
		if !ok {
			continue
		}
		if v == value || (prefix && strings.HasPrefix(v, value)) {
			ids = append(ids, id)
		}
	}
	return ids
}
