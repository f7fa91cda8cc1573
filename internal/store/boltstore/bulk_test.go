package boltstore

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/sagebridge/sagebridge/internal/store"
)

// Bulk loading for benchmarks: large transactions through the same
// tx-scoped helpers the store uses, so a benchmark starts from a file laid
// out as production would leave it, in seconds rather than the minutes
// 100,000 durable single writes would take. Bulk loads do not enqueue:
// they stand for a store whose queue has been worked off.

const bulkChunk = 10_000

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// benchUser is a user with a SCIM document of typical size (~700 bytes).
func benchUser(i int) store.User {
	name := fmt.Sprintf("user%07d@example.com", i)
	ext := fmt.Sprintf("00u%017d", i)
	data, _ := json.Marshal(map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"userName":    name,
		"externalId":  ext,
		"active":      true,
		"displayName": fmt.Sprintf("User Number %d", i),
		"name":        map[string]string{"givenName": "User", "familyName": fmt.Sprintf("Number%d", i), "formatted": fmt.Sprintf("User Number%d", i)},
		"emails":      []map[string]any{{"value": name, "type": "work", "primary": true}},
		"title":       "Data Scientist",
		"locale":      "en-US",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{
			"employeeNumber": fmt.Sprint(100000 + i),
			"costCenter":     "CC-4711",
			"organization":   "Research",
			"division":       "Machine Learning",
			"department":     "Platform",
			"manager":        map[string]string{"value": "00u00000000000000001", "displayName": "Boss"},
		},
	})
	return store.User{ID: uuid(), UserName: name, ExternalID: ext, Active: true, Emails: []string{name}, Data: data}
}

// bulkCreateUsers stores users (with fresh ids) and returns them as stored.
func bulkCreateUsers(s *Store, users []store.User) ([]store.User, error) {
	now := s.stamp()
	out := make([]store.User, 0, len(users))
	for chunk := range slices.Chunk(users, bulkChunk) {
		recs := make([]userRec, len(chunk))
		for i, u := range chunk {
			u.Meta = store.Meta{Version: 1, Created: now, Modified: now}
			r, err := newUserRec(u)
			if err != nil {
				return nil, err
			}
			recs[i] = r
			out = append(out, u)
		}
		err := s.db.Update(func(tx *bolt.Tx) error {
			for _, r := range recs {
				if err := putUser(tx, nil, r); err != nil {
					return err
				}
			}
			return addCounter(tx, metaUsers, len(recs))
		})
		if err != nil {
			return nil, fmt.Errorf("bulk create users: %w", err)
		}
	}
	return out, nil
}

// bulkCreateGroup stores a group with the given existing members.
func bulkCreateGroup(s *Store, g store.Group, members []string) (store.Group, error) {
	now := s.stamp()
	g.Meta = store.Meta{Version: 1, Created: now, Modified: now}
	rec, err := newGroupRec(g)
	if err != nil {
		return store.Group{}, err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := putGroup(tx, nil, rec); err != nil {
			return err
		}
		return addCounter(tx, metaGroups, 1)
	})
	if err != nil {
		return store.Group{}, fmt.Errorf("bulk create group: %w", err)
	}
	members = sortedSet(members)
	for chunk := range slices.Chunk(members, bulkChunk) {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for _, uid := range chunk {
				if err := addMember(tx, g.ID, uid); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return store.Group{}, fmt.Errorf("bulk add members: %w", err)
		}
	}
	return g, nil
}
