package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sagebridge/sagebridge/internal/store"
)

// membersChunk is how many member ids Members reads per read transaction.
const membersChunk = 1000

// CreateGroup stores g with Version 1 and its initial members, which must
// be existing users (else store.ErrInvalidReference).
func (s *Store) CreateGroup(ctx context.Context, g store.Group, members []string) (store.Group, error) {
	if err := checkID("group", g.ID); err != nil {
		return store.Group{}, fmt.Errorf("create group: %w", err)
	}
	if g.DisplayName == "" {
		return store.Group{}, fmt.Errorf("create group %s: displayName is empty", g.ID)
	}
	data, err := normalizeData(g.Data)
	if err != nil {
		return store.Group{}, fmt.Errorf("create group %s: %w", g.ID, err)
	}
	g.Data = data
	now := s.stamp()
	g.Meta = store.Meta{Version: 1, Created: now, Modified: now}
	rec, err := newGroupRec(g)
	if err != nil {
		return store.Group{}, fmt.Errorf("create group: %w", err)
	}
	members = sortedSet(members)
	err = s.submit(ctx, func(w *wtx) error {
		if bucketGroups.in(w.Tx).Get([]byte(g.ID)) != nil {
			return fmt.Errorf("id is taken: %w", store.ErrConflict)
		}
		if err := putGroup(w.Tx, nil, rec); err != nil {
			return err
		}
		for _, uid := range members {
			if !userExists(w.Tx, uid) {
				return fmt.Errorf("member %s: %w", uid, store.ErrInvalidReference)
			}
			if err := addMember(w.Tx, g.ID, uid); err != nil {
				return err
			}
			if err := enqueue(w, store.UserKey(uid), now); err != nil {
				return err
			}
		}
		if err := addCounter(w.Tx, metaGroups, 1); err != nil {
			return err
		}
		return enqueue(w, store.GroupKey(g.ID), now)
	})
	if err != nil {
		return store.Group{}, fmt.Errorf("create group %s: %w", g.ID, err)
	}
	return g, nil
}

func sortedSet(ids []string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// GetGroup returns the group with that id, or store.ErrNotFound.
func (s *Store) GetGroup(ctx context.Context, id string) (store.Group, error) {
	var g store.Group
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		g, err = getGroup(tx, id)
		return err
	})
	if err != nil {
		return store.Group{}, fmt.Errorf("get group %s: %w", id, err)
	}
	return g, nil
}

// UpdateGroup is optimistic like UpdateUser. Every membership change bumps
// the group's version, so an unchanged group record also means an
// unchanged membership, and the membership plan made in a read
// transaction still holds when the write finds the record unchanged.
func (s *Store) UpdateGroup(ctx context.Context, id string, fn store.GroupUpdate) (store.Group, error) {
	for {
		next, err := s.updateGroupOnce(ctx, id, fn)
		if errors.Is(err, errStale) {
			continue
		}
		if err != nil {
			return store.Group{}, fmt.Errorf("update group %s: %w", id, err)
		}
		return next, nil
	}
}

// memberPlan is the effective membership change: ids that are to join and
// were not members, ids that are to leave and were members.
type memberPlan struct {
	add, remove []string
}

func (s *Store) updateGroupOnce(ctx context.Context, id string, fn store.GroupUpdate) (store.Group, error) {
	var cur store.Group
	var raw []byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		raw = getGroupRaw(tx, id)
		if raw == nil {
			return store.ErrNotFound
		}
		var err error
		cur, err = decodeGroup(id, raw)
		return err
	})
	if err != nil {
		return store.Group{}, err
	}
	cloned := cur
	cloned.Data = bytes.Clone(cur.Data)
	change, err := fn(cloned)
	if err != nil {
		return store.Group{}, err
	}
	next := cur
	attrChanged := false
	if change.Group != nil {
		next = *change.Group
		if next.DisplayName == "" {
			return store.Group{}, errors.New("displayName is empty")
		}
		if next.Data, err = normalizeData(next.Data); err != nil {
			return store.Group{}, err
		}
		next.ID, next.Meta = id, cur.Meta
		attrChanged = next.DisplayName != cur.DisplayName ||
			next.ExternalID != cur.ExternalID ||
			!bytes.Equal(next.Data, cur.Data)
	}
	var plan memberPlan
	err = s.view(ctx, func(tx *bolt.Tx) error {
		if !bytes.Equal(bucketGroups.in(tx).Get([]byte(id)), raw) {
			return errStale
		}
		var err error
		plan, err = planMembers(tx, id, change)
		return err
	})
	if err != nil {
		return store.Group{}, err
	}
	if !attrChanged && len(plan.add) == 0 && len(plan.remove) == 0 {
		return cur, nil
	}
	next.Version = cur.Version + 1
	next.Modified = s.stamp()
	rec, err := newGroupRec(next)
	if err != nil {
		return store.Group{}, err
	}
	err = s.submit(ctx, func(w *wtx) error {
		if !bytes.Equal(bucketGroups.in(w.Tx).Get([]byte(id)), raw) {
			return errStale
		}
		if err := applyPlan(w, id, plan, next.Modified); err != nil {
			return err
		}
		if err := putGroup(w.Tx, &cur, rec); err != nil {
			return err
		}
		if !attrChanged {
			return nil
		}
		return enqueue(w, store.GroupKey(id), next.Modified)
	})
	if err != nil {
		return store.Group{}, err
	}
	return next, nil
}

// planMembers turns a GroupChange into the effective change. Replace is a
// merge of the sorted current members with the sorted wanted set; Add and
// Remove look up only the ids they name.
func planMembers(tx *bolt.Tx, groupID string, ch store.GroupChange) (memberPlan, error) {
	var plan memberPlan
	add := sortedSet(ch.Add)
	if ch.ReplaceMembers {
		have := pairsOf(bucketMember.in(tx), groupID)
		i, j := 0, 0
		for i < len(have) || j < len(add) {
			switch {
			case j == len(add) || (i < len(have) && have[i] < add[j]):
				plan.remove = append(plan.remove, have[i])
				i++
			case i == len(have) || add[j] < have[i]:
				plan.add = append(plan.add, add[j])
				j++
			default:
				i++
				j++
			}
		}
	} else {
		remove := sortedSet(ch.Remove)
		// Remove applies first, then Add: an id in both ends up a member.
		for _, uid := range remove {
			if _, both := slices.BinarySearch(add, uid); !both && isMember(tx, groupID, uid) {
				plan.remove = append(plan.remove, uid)
			}
		}
		for _, uid := range add {
			if !isMember(tx, groupID, uid) {
				plan.add = append(plan.add, uid)
			}
		}
	}
	for _, uid := range plan.add {
		if !userExists(tx, uid) {
			return memberPlan{}, fmt.Errorf("member %s: %w", uid, store.ErrInvalidReference)
		}
	}
	return plan, nil
}

// applyPlan checks each planned change again, so that a plan made on a
// group that was deleted and recreated identical (same bytes, new
// membership) is redone rather than applied.
func applyPlan(w *wtx, groupID string, plan memberPlan, now time.Time) error {
	for _, uid := range plan.remove {
		if !isMember(w.Tx, groupID, uid) {
			return errStale
		}
		if err := removeMember(w.Tx, groupID, uid); err != nil {
			return err
		}
		if err := enqueue(w, store.UserKey(uid), now); err != nil {
			return err
		}
	}
	for _, uid := range plan.add {
		if isMember(w.Tx, groupID, uid) {
			return errStale
		}
		if !userExists(w.Tx, uid) {
			return fmt.Errorf("member %s: %w", uid, store.ErrInvalidReference)
		}
		if err := addMember(w.Tx, groupID, uid); err != nil {
			return err
		}
		if err := enqueue(w, store.UserKey(uid), now); err != nil {
			return err
		}
	}
	return nil
}

// DeleteGroup removes the group, its indexes and its memberships, and
// enqueues the group and every member.
func (s *Store) DeleteGroup(ctx context.Context, id string, ifVersion uint64) error {
	now := s.stamp()
	err := s.submit(ctx, func(w *wtx) error {
		g, err := getGroup(w.Tx, id)
		if err != nil {
			return err
		}
		if ifVersion != 0 && g.Version != ifVersion {
			return fmt.Errorf("stored version %d, expected %d: %w", g.Version, ifVersion, store.ErrVersionMismatch)
		}
		for _, uid := range pairsOf(bucketMember.in(w.Tx), id) {
			if err := removeMember(w.Tx, id, uid); err != nil {
				return err
			}
			if err := enqueue(w, store.UserKey(uid), now); err != nil {
				return err
			}
		}
		if err := deleteGroupRecord(w.Tx, g); err != nil {
			return err
		}
		if err := addCounter(w.Tx, metaGroups, -1); err != nil {
			return err
		}
		return enqueue(w, store.GroupKey(id), now)
	})
	if err != nil {
		return fmt.Errorf("delete group %s: %w", id, err)
	}
	return nil
}

// ScanGroups pages through groups like ScanUsers.
func (s *Store) GroupIDs(ctx context.Context, offset, limit int) ([]string, error) {
	return s.idsAt(ctx, bucketGroups, offset, limit)
}

func (s *Store) ScanGroups(ctx context.Context, after string, limit int) (store.Page[store.Group], error) {
	var p store.Page[store.Group]
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		p, err = scanPage(bucketGroups.in(tx), after, limit, decodeGroup)
		return err
	})
	if err != nil {
		return store.Page[store.Group]{}, fmt.Errorf("scan groups after %q: %w", after, err)
	}
	return p, nil
}

// Members reads the member ids in chunks, each in its own short read
// transaction, and calls fn outside any transaction: fn may call the store,
// and a group of 50,000 must not pin a read transaction meanwhile. A
// membership change between two chunks is seen by the later chunk only.
func (s *Store) Members(ctx context.Context, groupID string, fn func(userID string) error) error {
	after := ""
	for first := true; ; first = false {
		var ids []string
		err := s.view(ctx, func(tx *bolt.Tx) error {
			if first && bucketGroups.in(tx).Get([]byte(groupID)) == nil {
				return store.ErrNotFound
			}
			prefix := pairKey(groupID, "")
			seek := pairKey(groupID, after)
			c := bucketMember.in(tx).Cursor()
			k, _ := c.Seek(seek)
			if !first && bytes.Equal(k, seek) {
				k, _ = c.Next()
			}
			for ; k != nil && bytes.HasPrefix(k, prefix) && len(ids) < membersChunk; k, _ = c.Next() {
				ids = append(ids, string(k[len(prefix):]))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("members of group %s: %w", groupID, err)
		}
		for _, id := range ids {
			if err := fn(id); err != nil {
				return err
			}
		}
		if len(ids) < membersChunk {
			return nil
		}
		after = ids[len(ids)-1]
	}
}

// IsMember reports whether the user is a member of the group; unknown ids
// are simply not members.
func (s *Store) IsMember(ctx context.Context, groupID, userID string) (bool, error) {
	var ok bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		ok = isMember(tx, groupID, userID)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("is %s a member of group %s: %w", userID, groupID, err)
	}
	return ok, nil
}

// GroupsOf returns the group ids of an existing user, in id order.
func (s *Store) GroupsOf(ctx context.Context, userID string) ([]string, error) {
	var ids []string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if !userExists(tx, userID) {
			return store.ErrNotFound
		}
		ids = pairsOf(bucketMemberOf.in(tx), userID)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("groups of user %s: %w", userID, err)
	}
	return ids, nil
}

// UserGroups reads an existing user's groups, in id order, in one
// transaction.
func (s *Store) UserGroups(ctx context.Context, userID string) ([]store.Group, error) {
	var groups []store.Group
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if !userExists(tx, userID) {
			return store.ErrNotFound
		}
		ids := pairsOf(bucketMemberOf.in(tx), userID)
		groups = make([]store.Group, len(ids))
		for i, id := range ids {
			var err error
			groups[i], err = getGroup(tx, id)
			if errors.Is(err, store.ErrNotFound) {
				// Not ErrNotFound, which says the user is gone: a
				// membership is deleted with its group, in one transaction.
				return fmt.Errorf("membership in group %s, which has no record", id)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("groups of user %s: %w", userID, err)
	}
	return groups, nil
}
