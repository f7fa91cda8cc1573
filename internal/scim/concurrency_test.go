package scim_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
)

// TestConcurrentWrites: optimistic updates retry, so concurrent changes of
// one group all land, and uniqueness holds under a race.
func TestConcurrentWrites(t *testing.T) {
	e := newEnv(t)
	const n = 16
	users := make([]string, n)
	for i := range users {
		users[i] = e.createUser(fmt.Sprintf("conc-%02d", i))
	}
	g := e.createGroup("concurrent")

	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i] = e.patch("/Groups/"+g, ops("add", "members", memberList(users[i]))).Status
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusNoContent {
			t.Errorf("add of %s: status %d", users[i], s)
		}
	}
	if got := e.memberIDs(g); !slices.Equal(got, sorted(users...)) {
		t.Errorf("members after concurrent adds: %d of %d", len(got), n)
	}

	// The same userName in several cases at once: exactly one wins.
	names := []string{"race@corp.example", "RACE@corp.example", "Race@Corp.Example"}
	for i := range n {
		wg.Go(func() {
			statuses[i] = e.post("/Users", map[string]any{"userName": names[i%len(names)]}).Status
		})
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
		default:
			t.Errorf("racing create: status %d", s)
		}
	}
	if created != 1 {
		t.Errorf("%d racing creates of one userName succeeded, want 1", created)
	}

	// Updates based on one ETag: exactly one wins, the others get 412.
	r := e.get("/Users/"+users[0]).want(t, http.StatusOK)
	tag := r.Header.Get("ETag")
	for i := range n {
		wg.Go(func() {
			statuses[i] = e.patch("/Users/"+users[0], ops("replace", "title", fmt.Sprint(i)), hdr{"If-Match", tag}).Status
		})
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusPreconditionFailed:
		default:
			t.Errorf("conditional PATCH: status %d", s)
		}
	}
	if ok != 1 {
		t.Errorf("%d conditional PATCHes on one ETag succeeded, want 1", ok)
	}
}

// TestMemberRemoveFilters: removal filters other than value eq work on
// the members as they are, and combine with adds in one request.
func TestMemberRemoveFilters(t *testing.T) {
	e := newEnv(t)
	a, b, c, d := e.createUser("rf-a"), e.createUser("rf-b"), e.createUser("rf-c"), e.createUser("rf-d")
	g := e.createGroup("remove filters", a, b, c)

	e.patch("/Groups/"+g, ops("remove", `members[value eq "`+a+`" or value eq "`+b+`"]`, nil)).want(t, http.StatusNoContent)
	if got := e.memberIDs(g); !slices.Equal(got, []string{c}) {
		t.Fatalf("after or-remove: %v", got)
	}
	// Add d, then remove everyone but d in the same request.
	e.patch("/Groups/"+g, map[string]any{"schemas": []string{patchURN}, "Operations": []any{
		map[string]any{"op": "add", "path": "members", "value": memberList(a, d)},
		map[string]any{"op": "remove", "path": `members[value ne "` + d + `"]`},
	}}).want(t, http.StatusNoContent)
	if got := e.memberIDs(g); !slices.Equal(got, []string{d}) {
		t.Fatalf("after ne-remove: %v", got)
	}
	e.patch("/Groups/"+g, ops("add", "members", memberList(a, b))).want(t, http.StatusNoContent)
	e.patch("/Groups/"+g, ops("remove", `members[type eq "User"]`, nil)).want(t, http.StatusNoContent)
	if got := e.memberIDs(g); len(got) != 0 {
		t.Fatalf("after type-remove: %v", got)
	}
	// Replace then remove within one request.
	e.patch("/Groups/"+g, map[string]any{"schemas": []string{patchURN}, "Operations": []any{
		map[string]any{"op": "replace", "path": "members", "value": memberList(a, b, c)},
		map[string]any{"op": "remove", "path": "members", "value": memberList(b)},
	}}).want(t, http.StatusNoContent)
	if got := e.memberIDs(g); !slices.Equal(got, sorted(a, c)) {
		t.Fatalf("after replace+remove: %v", got)
	}
	// Asking for attributes turns the 204 into a 200 with the group.
	r := e.patch("/Groups/"+g+"?attributes=displayName", ops("replace", "displayName", "renamed")).want(t, http.StatusOK)
	if r.JSON["displayName"] != "renamed" || r.JSON["members"] != nil || r.Header.Get("ETag") == "" {
		t.Errorf("PATCH ?attributes=displayName: %s", r.Raw)
	}
	r = e.patch("/Groups/"+g+"?excludedAttributes=displayName", ops("add", "members", memberList(d))).want(t, http.StatusOK)
	if got := valuesOf(r.JSON["members"]); !slices.Equal(got, sorted(a, c, d)) {
		t.Errorf("PATCH ?excludedAttributes=displayName: members %v", got)
	}
}
