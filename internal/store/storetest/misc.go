package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/store"
)

func testTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	in := []store.Token{
		{Name: "zeta", Hash: []byte{1, 2, 3}, Created: created},
		{Name: "alpha", Hash: []byte{4, 5, 6}, Created: created},
	}
	for _, tok := range in {
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatalf("CreateToken(%s): %v", tok.Name, err)
		}
	}
	wantErr(t, "CreateToken with a taken name", s.CreateToken(ctx, store.Token{Name: "alpha", Hash: []byte{9}}), store.ErrConflict)

	got, err := s.Tokens(ctx)
	if err != nil {
		t.Fatalf("Tokens: %v", err)
	}
	if len(got) != 2 || got[0].Name != "alpha" || got[1].Name != "zeta" {
		t.Fatalf("Tokens = %+v, want alpha and zeta in that order", got)
	}
	if !bytes.Equal(got[0].Hash, []byte{4, 5, 6}) || !got[0].Created.Equal(created) {
		t.Fatalf("alpha = %+v, want the hash and creation time it was stored with", got[0])
	}

	if err := s.DeleteToken(ctx, "alpha"); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	wantErr(t, "DeleteToken again", s.DeleteToken(ctx, "alpha"), store.ErrNotFound)
	if got, err = s.Tokens(ctx); err != nil || len(got) != 1 || got[0].Name != "zeta" {
		t.Fatalf("Tokens after delete = %+v, %v", got, err)
	}
}

func testStats(t *testing.T, s store.Store) {
	ctx := t.Context()
	var u1, u2 store.User
	var g store.Group
	steps := []struct {
		name  string
		write func() error
		want  store.Stats
	}{
		{"empty", func() error { return nil }, store.Stats{}},
		{"create user", func() (err error) {
			u1, err = s.CreateUser(ctx, newUser("u1"))
			return err
		}, store.Stats{Users: 1, QueueDepth: 1}},
		{"create another user", func() (err error) {
			u2, err = s.CreateUser(ctx, newUser("u2"))
			return err
		}, store.Stats{Users: 2, QueueDepth: 2}},
		{"failed create", func() error {
			if _, err := s.CreateUser(ctx, newUser("U1")); err == nil {
				t.Fatal("duplicate userName accepted")
			}
			return nil
		}, store.Stats{Users: 2, QueueDepth: 2}},
		{"create group with a queued member", func() (err error) {
			g, err = s.CreateGroup(ctx, newGroup("G"), []string{u1.ID})
			return err
		}, store.Stats{Users: 2, Groups: 1, QueueDepth: 3}},
		{"update user", func() error {
			_, err := s.UpdateUser(ctx, u2.ID, func(cur store.User) (store.User, error) {
				cur.Active = false
				return cur, nil
			})
			return err
		}, store.Stats{Users: 2, Groups: 1, QueueDepth: 3}},
		{"complete everything", func() error { clearQueue(t, s); return nil }, store.Stats{Users: 2, Groups: 1}},
		{"delete a member", func() error { return s.DeleteUser(ctx, u1.ID, 0) }, store.Stats{Users: 1, Groups: 1, QueueDepth: 1}},
		{"delete the group", func() error { return s.DeleteGroup(ctx, g.ID, 0) }, store.Stats{Users: 1, QueueDepth: 2}},
		{"enqueue", func() error { return s.Enqueue(ctx, "x") }, store.Stats{Users: 1, QueueDepth: 3}},
		{"token", func() error { return s.CreateToken(ctx, store.Token{Name: "t", Hash: []byte{1}}) }, store.Stats{Users: 1, QueueDepth: 3}},
		{"delete the last user", func() error { return s.DeleteUser(ctx, u2.ID, 0) }, store.Stats{QueueDepth: 4}},
	}
	for _, st := range steps {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := stats(t, s); got != st.want {
			t.Fatalf("%s: Stats = %+v, want %+v", st.name, got, st.want)
		}
	}
}

func testScans(t *testing.T, s store.Store) {
	ctx := t.Context()
	if p, err := s.ScanUsers(ctx, "", 10); err != nil || len(p.Items) != 0 || p.Next != "" {
		t.Fatalf("ScanUsers of an empty store = %+v, %v", p, err)
	}
	var userIDs, groupIDs []string
	for i := range 20 {
		userIDs = append(userIDs, createUser(t, s, newUser("user"+string(rune('a'+i)))).ID)
	}
	for i := range 7 {
		groupIDs = append(groupIDs, createGroup(t, s, newGroup("group"+string(rune('a'+i)))).ID)
	}
	slices.Sort(userIDs)
	slices.Sort(groupIDs)

	scanUsers := func(after string, limit int) (store.Page[store.User], error) {
		return s.ScanUsers(ctx, after, limit)
	}
	scanUserIDs := func(after string, limit int) (store.Page[string], error) {
		return s.ScanUserIDs(ctx, after, limit)
	}
	scanGroups := func(after string, limit int) (store.Page[store.Group], error) {
		return s.ScanGroups(ctx, after, limit)
	}
	for _, tt := range []struct {
		limit     int
		wantPages int
	}{{7, 3}, {10, 2}, {20, 1}, {50, 1}} {
		got, pages := collect(t, scanUsers, func(u store.User) string { return u.ID }, tt.limit)
		wantIDs(t, "scanned users", got, userIDs...)
		if pages != tt.wantPages {
			t.Fatalf("users with limit %d took %d pages, want %d", tt.limit, pages, tt.wantPages)
		}
		got, pages = collect(t, scanUserIDs, func(id string) string { return id }, tt.limit)
		wantIDs(t, "scanned user ids", got, userIDs...)
		if pages != tt.wantPages {
			t.Fatalf("user ids with limit %d took %d pages, want %d", tt.limit, pages, tt.wantPages)
		}
	}
	got, pages := collect(t, scanGroups, func(g store.Group) string { return g.ID }, 3)
	wantIDs(t, "scanned groups", got, groupIDs...)
	if pages != 3 {
		t.Fatalf("groups with limit 3 took %d pages, want 3", pages)
	}

	for _, tt := range []struct{ offset, limit, from, to int }{
		{0, 5, 0, 5}, {5, 5, 5, 10}, {18, 5, 18, 20}, {20, 5, 20, 20}, {100, 5, 20, 20},
	} {
		ids, err := s.UserIDs(ctx, tt.offset, tt.limit)
		if err != nil || !slices.Equal(ids, userIDs[tt.from:tt.to]) {
			t.Fatalf("UserIDs(%d, %d) = %v, %v; want %v", tt.offset, tt.limit, ids, err, userIDs[tt.from:tt.to])
		}
	}
	if ids, err := s.GroupIDs(ctx, 2, 3); err != nil || !slices.Equal(ids, groupIDs[2:5]) {
		t.Fatalf("GroupIDs(2, 3) = %v, %v; want %v", ids, err, groupIDs[2:5])
	}
}

// collect pages through a scan by Next and returns the ids in the order
// seen and the number of pages.
func collect[T any](t *testing.T, scan func(after string, limit int) (store.Page[T], error), id func(T) string, limit int) ([]string, int) {
	t.Helper()
	var ids []string
	after := ""
	for pages := 1; ; pages++ {
		p, err := scan(after, limit)
		if err != nil {
			t.Fatalf("scan after %q: %v", after, err)
		}
		if len(p.Items) > limit {
			t.Fatalf("page of %d items for limit %d", len(p.Items), limit)
		}
		for _, it := range p.Items {
			ids = append(ids, id(it))
		}
		if p.Next == "" {
			return ids, pages
		}
		if pages > 100 {
			t.Fatal("scan does not end")
		}
		after = p.Next
	}
}

func testBackup(t *testing.T, s store.Store) {
	ctx := t.Context()
	createUsers(t, s, "a", "b")
	var buf bytes.Buffer
	n, err := s.Backup(ctx, &buf)
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if n == 0 || n != int64(buf.Len()) {
		t.Fatalf("Backup wrote %d bytes, reported %d", buf.Len(), n)
	}
}
