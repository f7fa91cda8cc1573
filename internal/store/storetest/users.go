package storetest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/store"
)

func testUserCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := newUser("ada")
	in.ExternalID = "ext-ada"
	in.Emails = []string{"ada@example.com"}
	// The caller's meta is not the store's business: the store stamps its own.
	in.Meta = store.Meta{Version: 42, Created: time.Unix(1, 0), Modified: time.Unix(2, 0)}

	before := time.Now()
	created, err := s.CreateUser(ctx, in)
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	after := time.Now()
	if created.Version != 1 {
		t.Fatalf("created Version = %d, want 1", created.Version)
	}
	wantStamped(t, "created", created.Meta, before, after)
	want := in
	want.Meta = created.Meta
	wantUser(t, "CreateUser result", created, want)
	wantUser(t, "GetUser after create", getUser(t, s, in.ID), created)

	_, err = s.CreateUser(ctx, newUserWithID(in.ID, "other"))
	wantErr(t, "CreateUser with a taken id", err, store.ErrConflict)

	updated, err := s.UpdateUser(ctx, in.ID, func(cur store.User) (store.User, error) {
		if cur.Version != 1 {
			return cur, errors.New("fn saw a stale version")
		}
		cur.Active = false
		cur.Data = json.RawMessage(`{"userName":"ada","title":"Countess"}`)
		// ID and Created cannot change through an update.
		cur.ID = "someone-else"
		cur.Created = time.Unix(3, 0)
		return cur, nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if updated.ID != in.ID || !updated.Created.Equal(created.Created) {
		t.Fatalf("update changed ID/Created: %s %v, want %s %v", updated.ID, updated.Created, in.ID, created.Created)
	}
	if updated.Version != 2 || updated.Active || updated.Modified.Before(created.Modified) {
		t.Fatalf("updated = %+v, want Version 2, inactive, Modified >= %v", updated, created.Modified)
	}
	wantUser(t, "GetUser after update", getUser(t, s, in.ID), updated)

	if err := s.DeleteUser(ctx, in.ID, 0); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err = s.GetUser(ctx, in.ID)
	wantErr(t, "GetUser after delete", err, store.ErrNotFound)
	wantIDs(t, "userName lookup after delete", lookupUsers(t, s, store.Lookup{Index: store.IndexUserName, Value: "ada"}))
	wantIDs(t, "externalId lookup after delete", lookupUsers(t, s, store.Lookup{Index: store.IndexUserExternalID, Value: "ext-ada"}))
	wantIDs(t, "email lookup after delete", lookupUsers(t, s, store.Lookup{Index: store.IndexUserEmail, Value: "ada@example.com"}))

	missing := newID()
	_, err = s.GetUser(ctx, missing)
	wantErr(t, "GetUser of a missing id", err, store.ErrNotFound)
	_, err = s.UpdateUser(ctx, missing, func(cur store.User) (store.User, error) { return cur, nil })
	wantErr(t, "UpdateUser of a missing id", err, store.ErrNotFound)
	wantErr(t, "DeleteUser of a missing id", s.DeleteUser(ctx, missing, 0), store.ErrNotFound)
}

func newUserWithID(id, name string) store.User {
	u := newUser(name)
	u.ID = id
	return u
}

func testUserNameCaseInsensitive(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := createUser(t, s, newUser("Alice"))
	for _, name := range []string{"Alice", "ALICE", "alice"} {
		_, err := s.CreateUser(ctx, newUser(name))
		wantErr(t, "CreateUser("+name+")", err, store.ErrConflict)
	}
	if got := getUser(t, s, alice.ID).UserName; got != "Alice" {
		t.Fatalf("stored userName = %q, want the case it was given, %q", got, "Alice")
	}
	for _, v := range []string{"alice", "ALICE", "aLiCe"} {
		wantIDs(t, "lookup "+v, lookupUsers(t, s, store.Lookup{Index: store.IndexUserName, Value: v}), alice.ID)
	}
	// A change of case only is the same name: it must not conflict with itself.
	u, err := s.UpdateUser(ctx, alice.ID, func(cur store.User) (store.User, error) {
		cur.UserName = "ALICE"
		return cur, nil
	})
	if err != nil {
		t.Fatalf("UpdateUser to ALICE: %v", err)
	}
	if u.UserName != "ALICE" || u.Version != 2 {
		t.Fatalf("after case change: %q v%d, want ALICE v2", u.UserName, u.Version)
	}
	wantIDs(t, "lookup after case change", lookupUsers(t, s, store.Lookup{Index: store.IndexUserName, Value: "alice"}), alice.ID)
}

func testUserLookups(t *testing.T, s store.Store) {
	ctx := t.Context()
	mk := func(name, ext string, emails ...string) string {
		u := newUser(name)
		u.ExternalID, u.Emails = ext, emails
		return createUser(t, s, u).ID
	}
	u1 := mk("u1", "EXT-1", "One@Example.com", "shared@example.com")
	u2 := mk("u2", "EXT-1", "SHARED@example.com")
	u3 := mk("u3", "ext-1")
	u4 := mk("u4", "")

	tests := []struct {
		l    store.Lookup
		want []string
	}{
		{store.Lookup{Index: store.IndexUserExternalID, Value: "EXT-1"}, sorted(u1, u2)},
		{store.Lookup{Index: store.IndexUserExternalID, Value: "ext-1"}, []string{u3}},
		{store.Lookup{Index: store.IndexUserExternalID, Value: "Ext-1"}, nil},
		{store.Lookup{Index: store.IndexUserExternalID, Value: ""}, nil},
		{store.Lookup{Index: store.IndexUserEmail, Value: "one@example.com"}, []string{u1}},
		{store.Lookup{Index: store.IndexUserEmail, Value: "ONE@EXAMPLE.COM"}, []string{u1}},
		{store.Lookup{Index: store.IndexUserEmail, Value: "shared@example.com"}, sorted(u1, u2)},
		{store.Lookup{Index: store.IndexUserEmail, Value: "nobody@example.com"}, nil},
		{store.Lookup{Index: store.IndexUserName, Value: "u4"}, []string{u4}},
		{store.Lookup{Index: store.IndexUserName, Value: "u"}, nil},
	}
	for _, tt := range tests {
		wantIDs(t, "lookup "+string(tt.l.Index)+" "+tt.l.Value, lookupUsers(t, s, tt.l), tt.want...)
	}

	// Index entries follow updates.
	_, err := s.UpdateUser(ctx, u1, func(cur store.User) (store.User, error) {
		cur.Emails = []string{"one@example.com"}
		cur.ExternalID = "EXT-9"
		return cur, nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	wantIDs(t, "shared email after update", lookupUsers(t, s, store.Lookup{Index: store.IndexUserEmail, Value: "shared@example.com"}), u2)
	wantIDs(t, "EXT-1 after update", lookupUsers(t, s, store.Lookup{Index: store.IndexUserExternalID, Value: "EXT-1"}), u2)
	wantIDs(t, "EXT-9 after update", lookupUsers(t, s, store.Lookup{Index: store.IndexUserExternalID, Value: "EXT-9"}), u1)

	if _, err := s.LookupUsers(ctx, store.Lookup{Index: store.IndexGroupName, Value: "x"}); err == nil {
		t.Fatal("LookupUsers by a group index: no error")
	}
}

func testPrefixLookups(t *testing.T, s store.Store) {
	mk := func(name, ext string, emails ...string) string {
		u := newUser(name)
		u.ExternalID, u.Emails = ext, emails
		return createUser(t, s, u).ID
	}
	smith := mk("bob.smith", "HR-100", "bob@example.com", "bob.smith@example.com")
	jones := mk("Bob.Jones", "HR-101", "bjones@example.com")
	bobby := mk("BOBBY", "hr-102", "bobby@example.org")
	alice := mk("alice", "HR-200", "alice@example.com")
	g1 := createGroup(t, s, newGroup("Team Red")).ID
	g2 := createGroup(t, s, newGroup("team blue")).ID
	createGroup(t, s, newGroup("Other"))

	tests := []struct {
		l    store.Lookup
		want []string
	}{
		{store.Lookup{Index: store.IndexUserName, Value: "bob", Prefix: true}, sorted(smith, jones, bobby)},
		{store.Lookup{Index: store.IndexUserName, Value: "BOB.", Prefix: true}, sorted(smith, jones)},
		{store.Lookup{Index: store.IndexUserName, Value: "carol", Prefix: true}, nil},
		{store.Lookup{Index: store.IndexUserExternalID, Value: "HR-1", Prefix: true}, sorted(smith, jones)},
		{store.Lookup{Index: store.IndexUserExternalID, Value: "HR-", Prefix: true}, sorted(smith, jones, alice)},
		// smith matches through two emails and must appear once.
		{store.Lookup{Index: store.IndexUserEmail, Value: "BOB", Prefix: true}, sorted(smith, bobby)},
		{store.Lookup{Index: store.IndexUserEmail, Value: "b", Prefix: true}, sorted(smith, jones, bobby)},
	}
	for _, tt := range tests {
		wantIDs(t, "prefix lookup "+string(tt.l.Index)+" "+tt.l.Value, lookupUsers(t, s, tt.l), tt.want...)
	}
	wantIDs(t, "group prefix TEAM", lookupGroups(t, s, store.Lookup{Index: store.IndexGroupName, Value: "TEAM", Prefix: true}), sorted(g1, g2)...)
	wantIDs(t, "group exact team red", lookupGroups(t, s, store.Lookup{Index: store.IndexGroupName, Value: "team red"}), g1)
}

func testRenameFreesName(t *testing.T, s store.Store) {
	ctx := t.Context()
	carol := createUser(t, s, newUser("carol"))
	dave := createUser(t, s, newUser("dave"))

	_, err := s.UpdateUser(ctx, carol.ID, func(cur store.User) (store.User, error) {
		cur.UserName = "caroline"
		return cur, nil
	})
	if err != nil {
		t.Fatalf("rename: %v", err)
	}
	newcomer := createUser(t, s, newUser("Carol"))
	wantIDs(t, "lookup carol", lookupUsers(t, s, store.Lookup{Index: store.IndexUserName, Value: "carol"}), newcomer.ID)
	wantIDs(t, "lookup caroline", lookupUsers(t, s, store.Lookup{Index: store.IndexUserName, Value: "caroline"}), carol.ID)

	// Renaming onto a taken name fails and changes nothing.
	_, err = s.UpdateUser(ctx, dave.ID, func(cur store.User) (store.User, error) {
		cur.UserName = "CAROLINE"
		return cur, nil
	})
	wantErr(t, "rename onto a taken name", err, store.ErrConflict)
	wantUser(t, "dave after failed rename", getUser(t, s, dave.ID), dave)
	wantIDs(t, "lookup dave", lookupUsers(t, s, store.Lookup{Index: store.IndexUserName, Value: "dave"}), dave.ID)
}

func testUpdateFnError(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := createUser(t, s, newUser("erin"))
	before := queue(t, s)[store.UserKey(u.ID)]
	boom := errors.New("boom")
	for _, fnErr := range []error{boom, store.ErrVersionMismatch} {
		_, err := s.UpdateUser(ctx, u.ID, func(cur store.User) (store.User, error) {
			cur.UserName = "changed"
			return cur, fnErr
		})
		wantErr(t, "UpdateUser with a failing fn", err, fnErr)
	}
	wantUser(t, "user after failed updates", getUser(t, s, u.ID), u)
	if after := queue(t, s)[store.UserKey(u.ID)]; after.Gen != before.Gen {
		t.Fatalf("failed update re-queued the user: gen %d -> %d", before.Gen, after.Gen)
	}
	wantIDs(t, "lookup changed", lookupUsers(t, s, store.Lookup{Index: store.IndexUserName, Value: "changed"}))
}

func testNoopUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser("frank")
	u.Emails = []string{"frank@example.com"}
	u = createUser(t, s, u)
	clearQueue(t, s)
	fns := map[string]store.UserUpdate{
		"identity": func(cur store.User) (store.User, error) { return cur, nil },
		"same values": func(cur store.User) (store.User, error) {
			return store.User{
				ID: cur.ID, UserName: cur.UserName, Active: cur.Active,
				Emails: []string{"frank@example.com"}, Data: cur.Data,
			}, nil
		},
	}
	for name, fn := range fns {
		got, err := s.UpdateUser(ctx, u.ID, fn)
		if err != nil {
			t.Fatalf("%s: UpdateUser: %v", name, err)
		}
		wantUser(t, name+": no-op result", got, u)
		wantUser(t, name+": stored after no-op", getUser(t, s, u.ID), u)
	}
	if q := queue(t, s); len(q) != 0 {
		t.Fatalf("no-op update enqueued %v", q)
	}
}

func testDeleteIfVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := createUser(t, s, newUser("gina"))
	_, err := s.UpdateUser(ctx, u.ID, func(cur store.User) (store.User, error) {
		cur.Active = false
		return cur, nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	wantErr(t, "DeleteUser at version 1", s.DeleteUser(ctx, u.ID, 1), store.ErrVersionMismatch)
	getUser(t, s, u.ID)
	if err := s.DeleteUser(ctx, u.ID, 2); err != nil {
		t.Fatalf("DeleteUser at version 2: %v", err)
	}
	_, err = s.GetUser(ctx, u.ID)
	wantErr(t, "GetUser after delete", err, store.ErrNotFound)
}
