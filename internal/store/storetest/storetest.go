// Package storetest is the conformance suite every store.Store backend
// runs, so that backends agree on the contract rather than on a reading of
// it.
package storetest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/store"
)

// RunTests runs the suite. newStore must return an initialised, empty store
// and arrange for it to be closed when the test ends (t.Cleanup).
func RunTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"UserCRUD", testUserCRUD},
		{"UserNameCaseInsensitive", testUserNameCaseInsensitive},
		{"UserLookups", testUserLookups},
		{"PrefixLookups", testPrefixLookups},
		{"RenameFreesName", testRenameFreesName},
		{"UpdateFnError", testUpdateFnError},
		{"NoopUpdate", testNoopUpdate},
		{"DeleteIfVersion", testDeleteIfVersion},
		{"GroupCRUD", testGroupCRUD},
		{"Memberships", testMemberships},
		{"InvalidReference", testInvalidReference},
		{"DeleteUserMemberships", testDeleteUserMemberships},
		{"DeleteGroupEnqueuesMembers", testDeleteGroupEnqueuesMembers},
		{"QueueOnEveryWrite", testQueueOnEveryWrite},
		{"QueueDedupe", testQueueDedupe},
		{"QueueGen", testQueueGen},
		{"QueueOrder", testQueueOrder},
		{"QueueChanged", testQueueChanged},
		{"QueueItem", testQueueItem},
		{"QueueRequestID", testQueueRequestID},
		{"CountQueue", testCountQueue},
		{"StatusRecords", testStatusRecords},
		{"StatusScan", testStatusScan},
		{"StatusSurvivesDelete", testStatusSurvivesDelete},
		{"Tokens", testTokens},
		{"SeenIDs", testSeenIDs},
		{"PruneSeen", testPruneSeen},
		{"ConcurrentMarkSeen", testConcurrentMarkSeen},
		{"SigningKeys", testSigningKeys},
		{"SAMLMeta", testSAMLMeta},
		{"Stats", testStats},
		{"Scans", testScans},
		{"Backup", testBackup},
		{"ConcurrentCreates", testConcurrentCreates},
		{"ConcurrentUserNameRace", testConcurrentUserNameRace},
		{"ConcurrentIncrements", testConcurrentIncrements},
		{"ConcurrentStatus", testConcurrentStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newStore(t))
		})
	}
}

// newID returns a random UUID, the form of id the store is given in
// production.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func newUser(name string) store.User {
	data, _ := json.Marshal(map[string]any{"userName": name})
	return store.User{ID: newID(), UserName: name, Active: true, Data: data}
}

func newGroup(name string) store.Group {
	data, _ := json.Marshal(map[string]any{"displayName": name})
	return store.Group{ID: newID(), DisplayName: name, Data: data}
}

func createUser(t *testing.T, s store.Store, u store.User) store.User {
	t.Helper()
	got, err := s.CreateUser(t.Context(), u)
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", u.UserName, err)
	}
	return got
}

// createUsers creates users with the given names and returns their ids in
// the same order.
func createUsers(t *testing.T, s store.Store, names ...string) []string {
	t.Helper()
	ids := make([]string, len(names))
	for i, n := range names {
		ids[i] = createUser(t, s, newUser(n)).ID
	}
	return ids
}

func createGroup(t *testing.T, s store.Store, g store.Group, members ...string) store.Group {
	t.Helper()
	got, err := s.CreateGroup(t.Context(), g, members)
	if err != nil {
		t.Fatalf("CreateGroup(%s): %v", g.DisplayName, err)
	}
	return got
}

func getUser(t *testing.T, s store.Store, id string) store.User {
	t.Helper()
	u, err := s.GetUser(t.Context(), id)
	if err != nil {
		t.Fatalf("GetUser(%s): %v", id, err)
	}
	return u
}

func getGroup(t *testing.T, s store.Store, id string) store.Group {
	t.Helper()
	g, err := s.GetGroup(t.Context(), id)
	if err != nil {
		t.Fatalf("GetGroup(%s): %v", id, err)
	}
	return g
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func lookupUsers(t *testing.T, s store.Store, l store.Lookup) []string {
	t.Helper()
	ids, err := s.LookupUsers(t.Context(), l)
	if err != nil {
		t.Fatalf("LookupUsers(%+v): %v", l, err)
	}
	return ids
}

func lookupGroups(t *testing.T, s store.Store, l store.Lookup) []string {
	t.Helper()
	ids, err := s.LookupGroups(t.Context(), l)
	if err != nil {
		t.Fatalf("LookupGroups(%+v): %v", l, err)
	}
	return ids
}

// wantIDs compares id lists, treating nil and empty alike.
func wantIDs(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

// sorted returns a sorted copy: the store returns ids in id order.
func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func members(t *testing.T, s store.Store, groupID string) []string {
	t.Helper()
	var ids []string
	err := s.Members(t.Context(), groupID, func(id string) error {
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		t.Fatalf("Members(%s): %v", groupID, err)
	}
	return ids
}

// groupsOf returns GroupsOf(userID), checked against UserGroups: the same
// groups, each as GetGroup reads it.
func groupsOf(t *testing.T, s store.Store, userID string) []string {
	t.Helper()
	ids, err := s.GroupsOf(t.Context(), userID)
	if err != nil {
		t.Fatalf("GroupsOf(%s): %v", userID, err)
	}
	groups, err := s.UserGroups(t.Context(), userID)
	if err != nil {
		t.Fatalf("UserGroups(%s): %v", userID, err)
	}
	if len(groups) != len(ids) {
		t.Fatalf("UserGroups(%s) has %d groups, GroupsOf %d", userID, len(groups), len(ids))
	}
	for i, g := range groups {
		want, err := s.GetGroup(t.Context(), ids[i])
		if err != nil {
			t.Fatalf("GetGroup(%s): %v", ids[i], err)
		}
		if !reflect.DeepEqual(g, want) {
			t.Fatalf("UserGroups(%s)[%d] = %+v, GetGroup %+v", userID, i, g, want)
		}
	}
	return ids
}

// sameJSON reports whether two documents are equal as JSON: a backend may
// re-encode Data, as long as it means the same.
func sameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func sameMeta(a, b store.Meta) bool {
	return a.Version == b.Version && a.Created.Equal(b.Created) && a.Modified.Equal(b.Modified)
}

func wantUser(t *testing.T, what string, got, want store.User) {
	t.Helper()
	if got.ID != want.ID || got.UserName != want.UserName || got.ExternalID != want.ExternalID ||
		got.Active != want.Active || !slices.Equal(got.Emails, want.Emails) ||
		!sameJSON(got.Data, want.Data) || !sameMeta(got.Meta, want.Meta) {
		t.Fatalf("%s:\n got %+v (data %s)\nwant %+v (data %s)", what, got, got.Data, want, want.Data)
	}
}

func wantGroup(t *testing.T, what string, got, want store.Group) {
	t.Helper()
	if got.ID != want.ID || got.DisplayName != want.DisplayName || got.ExternalID != want.ExternalID ||
		!sameJSON(got.Data, want.Data) || !sameMeta(got.Meta, want.Meta) {
		t.Fatalf("%s:\n got %+v (data %s)\nwant %+v (data %s)", what, got, got.Data, want, want.Data)
	}
}

// wantStamped checks that the store, not the caller, set the timestamps.
func wantStamped(t *testing.T, what string, m store.Meta, before, after time.Time) {
	t.Helper()
	// A backend may use another clock (a server's): allow a little skew.
	const skew = 2 * time.Second
	if m.Created.Before(before.Add(-skew)) || m.Created.After(after.Add(skew)) {
		t.Fatalf("%s: Created %v is not between %v and %v", what, m.Created, before, after)
	}
	if !m.Modified.Equal(m.Created) {
		t.Fatalf("%s: Modified %v, want Created %v", what, m.Modified, m.Created)
	}
}

// queue returns every queued item by key.
func queue(t *testing.T, s store.Store) map[string]store.QueueItem {
	t.Helper()
	items, err := s.DueItems(t.Context(), time.Now().Add(24*time.Hour), 1000)
	if err != nil {
		t.Fatalf("DueItems: %v", err)
	}
	m := make(map[string]store.QueueItem, len(items))
	for _, it := range items {
		if _, dup := m[it.Key]; dup {
			t.Fatalf("key %s is queued twice", it.Key)
		}
		m[it.Key] = it
	}
	return m
}

// clearQueue completes every queued item, so a test sees only what its next
// write enqueues.
func clearQueue(t *testing.T, s store.Store) {
	t.Helper()
	for _, it := range queue(t, s) {
		if err := s.Complete(t.Context(), it.Key, it.Gen); err != nil {
			t.Fatalf("Complete(%s, %d): %v", it.Key, it.Gen, err)
		}
	}
	if q := queue(t, s); len(q) != 0 {
		t.Fatalf("queue after completing everything: %v", q)
	}
}

// wantQueued checks that every key is queued.
func wantQueued(t *testing.T, what string, q map[string]store.QueueItem, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := q[k]; !ok {
			t.Fatalf("%s: %s not queued; queue holds %v", what, k, slices.Sorted(maps.Keys(q)))
		}
	}
}

func stats(t *testing.T, s store.Store) store.Stats {
	t.Helper()
	st, err := s.Stats(t.Context())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}
