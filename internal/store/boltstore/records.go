package boltstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sagebridge/sagebridge/internal/store"
)

// Encoding and decoding of records live here, in helpers scoped to a
// transaction, so a record, its indexes and its queue entries compose into
// the one transaction of the write that changes them.

// sep separates the two ids of a membership key and the value from the id
// in a non-unique index key. Ids never contain it (checkID), so the last
// sep of a key always starts the id.
const sep = 0

// checkID refuses ids that would break the key layout.
func checkID(kind, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%s id is empty", kind)
	case strings.IndexByte(id, sep) >= 0:
		return fmt.Errorf("%s id %q contains a NUL byte", kind, id)
	case len(id) > 512:
		return fmt.Errorf("%s id is %d bytes long, more than 512", kind, len(id))
	}
	return nil
}

// encode marshals v without HTML escaping, so a RawMessage is stored exactly
// as json.Compact leaves it and reads back byte for byte.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// normalizeData is what the store keeps of a Data document: compacted JSON,
// and {} for an empty one. Comparing normalised documents tells whether an
// update changes anything.
func normalizeData(d json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(d)) == 0 {
		return json.RawMessage("{}"), nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, d); err != nil {
		return nil, fmt.Errorf("data is not valid JSON: %w", err)
	}
	return buf.Bytes(), nil
}

// userRec is a user with its encoding, made before the write transaction:
// the committer serialises every write, so JSON work stays out of it.
type userRec struct {
	u   store.User
	raw []byte
}

func newUserRec(u store.User) (userRec, error) {
	raw, err := encode(u)
	if err != nil {
		return userRec{}, fmt.Errorf("encode user %s: %w", u.ID, err)
	}
	return userRec{u: u, raw: raw}, nil
}

type groupRec struct {
	g   store.Group
	raw []byte
}

func newGroupRec(g store.Group) (groupRec, error) {
	raw, err := encode(g)
	if err != nil {
		return groupRec{}, fmt.Errorf("encode group %s: %w", g.ID, err)
	}
	return groupRec{g: g, raw: raw}, nil
}

// getUserRaw returns a copy of the stored user, nil when there is none. The
// copy outlives the transaction, so it can be compared in a later one.
func getUserRaw(tx *bolt.Tx, id string) []byte {
	return bytes.Clone(bucketUsers.in(tx).Get([]byte(id)))
}

func getUser(tx *bolt.Tx, id string) (store.User, error) {
	raw := bucketUsers.in(tx).Get([]byte(id))
	if raw == nil {
		return store.User{}, store.ErrNotFound
	}
	return decodeUser(id, raw)
}

func decodeUser(id string, raw []byte) (store.User, error) {
	var u store.User
	if err := json.Unmarshal(raw, &u); err != nil {
		return store.User{}, fmt.Errorf("decode user %s: %w", id, err)
	}
	return u, nil
}

func userExists(tx *bolt.Tx, id string) bool {
	return id != "" && bucketUsers.in(tx).Get([]byte(id)) != nil
}

// putUser writes r and moves its index entries from old (nil for a new
// user) to r's values.
func putUser(tx *bolt.Tx, old *store.User, r userRec) error {
	if err := indexUser(tx, r.u.ID, old, &r.u); err != nil {
		return err
	}
	if err := bucketUsers.in(tx).Put([]byte(r.u.ID), r.raw); err != nil {
		return fmt.Errorf("put user %s: %w", r.u.ID, err)
	}
	return nil
}

func deleteUserRecord(tx *bolt.Tx, u store.User) error {
	if err := indexUser(tx, u.ID, &u, nil); err != nil {
		return err
	}
	if err := bucketUsers.in(tx).Delete([]byte(u.ID)); err != nil {
		return fmt.Errorf("delete user %s: %w", u.ID, err)
	}
	return nil
}

func getGroupRaw(tx *bolt.Tx, id string) []byte {
	return bytes.Clone(bucketGroups.in(tx).Get([]byte(id)))
}

func getGroup(tx *bolt.Tx, id string) (store.Group, error) {
	raw := bucketGroups.in(tx).Get([]byte(id))
	if raw == nil {
		return store.Group{}, store.ErrNotFound
	}
	return decodeGroup(id, raw)
}

func decodeGroup(id string, raw []byte) (store.Group, error) {
	var g store.Group
	if err := json.Unmarshal(raw, &g); err != nil {
		return store.Group{}, fmt.Errorf("decode group %s: %w", id, err)
	}
	return g, nil
}

func putGroup(tx *bolt.Tx, old *store.Group, r groupRec) error {
	if err := indexGroup(tx, r.g.ID, old, &r.g); err != nil {
		return err
	}
	if err := bucketGroups.in(tx).Put([]byte(r.g.ID), r.raw); err != nil {
		return fmt.Errorf("put group %s: %w", r.g.ID, err)
	}
	return nil
}

func deleteGroupRecord(tx *bolt.Tx, g store.Group) error {
	if err := indexGroup(tx, g.ID, &g, nil); err != nil {
		return err
	}
	if err := bucketGroups.in(tx).Delete([]byte(g.ID)); err != nil {
		return fmt.Errorf("delete group %s: %w", g.ID, err)
	}
	return nil
}

// touchGroup gives a group the next version because its membership
// changed, for writes that reach the group from the user's side.
func touchGroup(tx *bolt.Tx, id string, modified time.Time) error {
	g, err := getGroup(tx, id)
	if err != nil {
		return fmt.Errorf("group %s: %w", id, err)
	}
	g.Version++
	g.Modified = modified
	raw, err := encode(g)
	if err != nil {
		return fmt.Errorf("encode group %s: %w", id, err)
	}
	if err := bucketGroups.in(tx).Put([]byte(id), raw); err != nil {
		return fmt.Errorf("put group %s: %w", id, err)
	}
	return nil
}

// pairKey is a NUL b: a membership key, or a non-unique index entry.
func pairKey(a, b string) []byte {
	k := make([]byte, 0, len(a)+1+len(b))
	k = append(k, a...)
	k = append(k, sep)
	return append(k, b...)
}

// splitPair splits a pairKey at its last NUL: the id never has one, the
// value may.
func splitPair(k []byte) (value, id string, ok bool) {
	i := bytes.LastIndexByte(k, sep)
	if i < 0 {
		return "", "", false
	}
	return string(k[:i]), string(k[i+1:]), true
}

// pairsOf returns the second ids of the keys that start with first NUL,
// in order: the members of a group or the groups of a user.
func pairsOf(b *bolt.Bucket, first string) []string {
	prefix := pairKey(first, "")
	var ids []string
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, string(k[len(prefix):]))
	}
	return ids
}

func isMember(tx *bolt.Tx, groupID, userID string) bool {
	return bucketMember.in(tx).Get(pairKey(groupID, userID)) != nil
}

func addMember(tx *bolt.Tx, groupID, userID string) error {
	if err := bucketMember.in(tx).Put(pairKey(groupID, userID), nil); err != nil {
		return fmt.Errorf("add member %s to group %s: %w", userID, groupID, err)
	}
	if err := bucketMemberOf.in(tx).Put(pairKey(userID, groupID), nil); err != nil {
		return fmt.Errorf("add member %s to group %s: %w", userID, groupID, err)
	}
	return nil
}

func removeMember(tx *bolt.Tx, groupID, userID string) error {
	if err := bucketMember.in(tx).Delete(pairKey(groupID, userID)); err != nil {
		return fmt.Errorf("remove member %s from group %s: %w", userID, groupID, err)
	}
	if err := bucketMemberOf.in(tx).Delete(pairKey(userID, groupID)); err != nil {
		return fmt.Errorf("remove member %s from group %s: %w", userID, groupID, err)
	}
	return nil
}
