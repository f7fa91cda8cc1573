package storetest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/store"
)

func testGroupCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := newGroup("Engineers")
	in.ExternalID = "grp-eng"
	before := time.Now()
	g, err := s.CreateGroup(ctx, in, nil)
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	wantStamped(t, "created group", g.Meta, before, time.Now())
	if g.Version != 1 {
		t.Fatalf("created Version = %d, want 1", g.Version)
	}
	wantGroup(t, "GetGroup", getGroup(t, s, g.ID), g)

	for _, name := range []string{"Engineers", "ENGINEERS", "engineers"} {
		_, err := s.CreateGroup(ctx, newGroup(name), nil)
		wantErr(t, "CreateGroup("+name+")", err, store.ErrConflict)
	}
	dup := newGroup("Someone else")
	dup.ID = g.ID
	_, err = s.CreateGroup(ctx, dup, nil)
	wantErr(t, "CreateGroup with a taken id", err, store.ErrConflict)
	wantIDs(t, "externalId lookup", lookupGroups(t, s, store.Lookup{Index: store.IndexGroupExternalID, Value: "grp-eng"}), g.ID)

	up, err := s.UpdateGroup(ctx, g.ID, func(cur store.Group) (store.GroupChange, error) {
		cur.DisplayName = "Engineering"
		cur.Data = json.RawMessage(`{"displayName":"Engineering"}`)
		return store.GroupChange{Group: &cur}, nil
	})
	if err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
	if up.Version != 2 || up.DisplayName != "Engineering" || !up.Created.Equal(g.Created) || up.Modified.Before(g.Modified) {
		t.Fatalf("updated group = %+v", up)
	}
	wantGroup(t, "GetGroup after update", getGroup(t, s, g.ID), up)
	wantIDs(t, "old name after rename", lookupGroups(t, s, store.Lookup{Index: store.IndexGroupName, Value: "engineers"}))
	wantIDs(t, "new name after rename", lookupGroups(t, s, store.Lookup{Index: store.IndexGroupName, Value: "ENGINEERING"}), g.ID)

	other := createGroup(t, s, newGroup("Sales"))
	_, err = s.UpdateGroup(ctx, other.ID, func(cur store.Group) (store.GroupChange, error) {
		cur.DisplayName = "engineering"
		return store.GroupChange{Group: &cur}, nil
	})
	wantErr(t, "rename onto a taken displayName", err, store.ErrConflict)

	// No change at all: nothing is written.
	same, err := s.UpdateGroup(ctx, g.ID, func(cur store.Group) (store.GroupChange, error) {
		return store.GroupChange{Group: &cur}, nil
	})
	if err != nil {
		t.Fatalf("no-op UpdateGroup: %v", err)
	}
	wantGroup(t, "no-op UpdateGroup", same, up)

	wantErr(t, "DeleteGroup at version 1", s.DeleteGroup(ctx, g.ID, 1), store.ErrVersionMismatch)
	if err := s.DeleteGroup(ctx, g.ID, 2); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	_, err = s.GetGroup(ctx, g.ID)
	wantErr(t, "GetGroup after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteGroup again", s.DeleteGroup(ctx, g.ID, 0), store.ErrNotFound)
	_, err = s.UpdateGroup(ctx, g.ID, func(cur store.Group) (store.GroupChange, error) { return store.GroupChange{}, nil })
	wantErr(t, "UpdateGroup after delete", err, store.ErrNotFound)
	createGroup(t, s, newGroup("Engineering")) // the name is free again
}

// changeMembers runs a membership-only UpdateGroup.
func changeMembers(t *testing.T, s store.Store, groupID string, ch store.GroupChange) store.Group {
	t.Helper()
	g, err := s.UpdateGroup(t.Context(), groupID, func(store.Group) (store.GroupChange, error) { return ch, nil })
	if err != nil {
		t.Fatalf("UpdateGroup(%+v): %v", ch, err)
	}
	return g
}

func testMemberships(t *testing.T, s store.Store) {
	ctx := t.Context()
	ids := createUsers(t, s, "a", "b", "c", "d")
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	g := createGroup(t, s, newGroup("G"), a, b, a)
	h := createGroup(t, s, newGroup("H"), a)

	// check compares both directions of the membership with want.
	check := func(step string, want ...string) {
		t.Helper()
		wantIDs(t, step+": Members", members(t, s, g.ID), sorted(want...)...)
		for _, u := range ids {
			in := false
			for _, w := range want {
				in = in || w == u
			}
			ok, err := s.IsMember(ctx, g.ID, u)
			if err != nil || ok != in {
				t.Fatalf("%s: IsMember(%s) = %v, %v; want %v", step, u, ok, err, in)
			}
			gotIn := false
			for _, gid := range groupsOf(t, s, u) {
				gotIn = gotIn || gid == g.ID
			}
			if gotIn != in {
				t.Fatalf("%s: GroupsOf(%s) contains the group: %v, want %v", step, u, gotIn, in)
			}
		}
	}
	check("created", a, b)
	wantIDs(t, "GroupsOf(a)", groupsOf(t, s, a), sorted(g.ID, h.ID)...)

	version := g.Version
	steps := []struct {
		name   string
		change store.GroupChange
		want   []string
		bumped bool
	}{
		{"add c remove a", store.GroupChange{Add: []string{c}, Remove: []string{a}}, []string{b, c}, true},
		{"add existing b", store.GroupChange{Add: []string{b}}, []string{b, c}, false},
		{"remove non-member d", store.GroupChange{Remove: []string{d}}, []string{b, c}, false},
		{"remove and add b", store.GroupChange{Add: []string{b}, Remove: []string{b}}, []string{b, c}, false},
		{"replace with a d", store.GroupChange{ReplaceMembers: true, Add: []string{d, a, d}}, []string{a, d}, true},
		{"replace with the same set", store.GroupChange{ReplaceMembers: true, Add: []string{a, d}}, []string{a, d}, false},
		{"replace with nothing", store.GroupChange{ReplaceMembers: true}, nil, true},
		{"add all", store.GroupChange{Add: ids}, ids, true},
	}
	for _, st := range steps {
		got := changeMembers(t, s, g.ID, st.change)
		wantVersion := version
		if st.bumped {
			wantVersion++
		}
		if got.Version != wantVersion {
			t.Fatalf("%s: Version = %d, want %d", st.name, got.Version, wantVersion)
		}
		version = got.Version
		check(st.name, st.want...)
	}

	errStop := errors.New("stop")
	n := 0
	err := s.Members(ctx, g.ID, func(string) error { n++; return errStop })
	if !errors.Is(err, errStop) || n != 1 {
		t.Fatalf("Members with a failing fn: %v after %d calls, want %v after 1", err, n, errStop)
	}
	wantErr(t, "Members of a missing group", s.Members(ctx, newID(), func(string) error { return nil }), store.ErrNotFound)
}

func testInvalidReference(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createUsers(t, s, "a")[0]
	ghost := newID()

	_, err := s.CreateGroup(ctx, newGroup("G"), []string{a, ghost})
	wantErr(t, "CreateGroup with a missing member", err, store.ErrInvalidReference)
	if !strings.Contains(err.Error(), ghost) {
		t.Fatalf("error %q does not name the missing id %s", err, ghost)
	}
	wantIDs(t, "group after failed create", lookupGroups(t, s, store.Lookup{Index: store.IndexGroupName, Value: "G"}))
	if st := stats(t, s); st.Groups != 0 {
		t.Fatalf("Stats.Groups = %d after failed create", st.Groups)
	}

	g := createGroup(t, s, newGroup("G"))
	_, err = s.UpdateGroup(ctx, g.ID, func(store.Group) (store.GroupChange, error) {
		return store.GroupChange{Add: []string{a, ghost}}, nil
	})
	wantErr(t, "UpdateGroup adding a missing member", err, store.ErrInvalidReference)
	if !strings.Contains(err.Error(), ghost) {
		t.Fatalf("error %q does not name the missing id %s", err, ghost)
	}
	wantGroup(t, "group after failed update", getGroup(t, s, g.ID), g)
	wantIDs(t, "members after failed update", members(t, s, g.ID))
}

func testDeleteUserMemberships(t *testing.T, s store.Store) {
	ctx := t.Context()
	ids := createUsers(t, s, "a", "b")
	a, b := ids[0], ids[1]
	g1 := createGroup(t, s, newGroup("G1"), a, b)
	g2 := createGroup(t, s, newGroup("G2"), a)
	g3 := createGroup(t, s, newGroup("G3"), b)

	if err := s.DeleteUser(ctx, a, 0); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	wantIDs(t, "G1 members", members(t, s, g1.ID), b)
	wantIDs(t, "G2 members", members(t, s, g2.ID))
	for _, g := range []store.Group{g1, g2} {
		if ok, err := s.IsMember(ctx, g.ID, a); err != nil || ok {
			t.Fatalf("IsMember(%s, deleted user) = %v, %v", g.DisplayName, ok, err)
		}
		got := getGroup(t, s, g.ID)
		if got.Version != g.Version+1 || got.Modified.Before(g.Modified) {
			t.Fatalf("%s after its member was deleted: v%d modified %v, want v%d, modified >= %v",
				g.DisplayName, got.Version, got.Modified, g.Version+1, g.Modified)
		}
	}
	if got := getGroup(t, s, g3.ID); got.Version != g3.Version {
		t.Fatalf("G3, which a was not in, went to version %d", got.Version)
	}
	wantIDs(t, "GroupsOf(b)", groupsOf(t, s, b), sorted(g1.ID, g3.ID)...)
	_, err := s.GroupsOf(ctx, a)
	wantErr(t, "GroupsOf(deleted user)", err, store.ErrNotFound)
	_, err = s.UserGroups(ctx, a)
	wantErr(t, "UserGroups(deleted user)", err, store.ErrNotFound)

	// The deleted user can be created again and is in no group.
	again := newUser("a")
	again.ID = a
	createUser(t, s, again)
	wantIDs(t, "GroupsOf(recreated user)", groupsOf(t, s, a))
}

func testDeleteGroupEnqueuesMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	ids := createUsers(t, s, "a", "b", "c")
	g := createGroup(t, s, newGroup("G"), ids[0], ids[1])
	clearQueue(t, s)
	if err := s.DeleteGroup(ctx, g.ID, 0); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	wantQueued(t, "after DeleteGroup", queue(t, s), store.GroupKey(g.ID), store.UserKey(ids[0]), store.UserKey(ids[1]))
	for _, u := range ids {
		wantIDs(t, "GroupsOf after DeleteGroup", groupsOf(t, s, u))
	}
	if ok, err := s.IsMember(ctx, g.ID, ids[0]); err != nil || ok {
		t.Fatalf("IsMember after DeleteGroup = %v, %v", ok, err)
	}
}
