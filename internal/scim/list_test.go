package scim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sagebridge/sagebridge/internal/store"
)

func TestSearch(t *testing.T) {
	e := newEnv(t)
	alice := e.createUser("alice@corp.example", "title", "Eng", "externalId", "ext-a")
	bob := e.createUser("bob@corp.example", "title", "Eng")
	e.createUser("carol@corp.example", "title", "Ops")
	g := e.createGroup("Search Group", alice, bob)
	e.createGroup("Other Group")

	r := e.post("/Users/.search", map[string]any{
		"schemas": []string{searchURN}, "filter": `title eq "Eng"`, "startIndex": 1, "count": 10,
		"attributes": []string{"userName"},
	}).want(t, http.StatusOK)
	if ids := listIDs(t, r); !slices.Equal(sortedCopy(ids), sorted(alice, bob)) || total(t, r) != 2 {
		t.Errorf("search ids %v", ids)
	}
	for _, res := range list(r.JSON["Resources"]) {
		u := obj(res)
		if u["title"] != nil || u["userName"] == nil || u["id"] == nil {
			t.Errorf("attributes=[userName] returned %v", u)
		}
	}
	r = e.post("/Users/.search", map[string]any{
		"schemas": []string{searchURN}, "filter": `externalId eq "ext-a"`, "excludedAttributes": []string{"groups", "title"},
	}, hdr{"Content-Type", ""})
	if ids := listIDs(t, r); !slices.Equal(ids, []string{alice}) {
		t.Fatalf("search by externalId: %v", ids)
	}
	if u := obj(list(r.JSON["Resources"])[0]); u["groups"] != nil || u["title"] != nil || u["userName"] != "alice@corp.example" {
		t.Errorf("excludedAttributes=[groups,title] returned %v", u)
	}

	r = e.post("/Groups/.search", map[string]any{"schemas": []string{searchURN}, "filter": `displayName eq "search group"`}).
		want(t, http.StatusOK)
	if ids := listIDs(t, r); !slices.Equal(ids, []string{g}) {
		t.Fatalf("group search: %v", ids)
	}
	if got := valuesOf(path(list(r.JSON["Resources"])[0], "members")); !slices.Equal(got, sorted(alice, bob)) {
		t.Errorf("group search members %v", got)
	}
	r = e.post("/Groups/.search", map[string]any{"schemas": []string{searchURN}, "excludedAttributes": "members"})
	if ids := listIDs(t, r); len(ids) != 2 || total(t, r) != 2 {
		t.Errorf("search all groups: %v", ids)
	}
	for _, res := range list(r.JSON["Resources"]) {
		if obj(res)["members"] != nil {
			t.Errorf("excludedAttributes=members returned members: %v", res)
		}
	}
}

func TestGroupMembership(t *testing.T) {
	e := newEnv(t)
	u1, u2 := e.createUser("m1@corp.example"), e.createUser("m2@corp.example")
	g1 := e.createGroup("Team One", u1, u2)
	g2 := e.createGroup("Team Two", u1)

	t.Run("groups attribute", func(t *testing.T) {
		u := e.get("/Users/"+u1).want(t, http.StatusOK).JSON
		byID := map[string]map[string]any{}
		for _, g := range list(u["groups"]) {
			byID[str(obj(g)["value"])] = obj(g)
		}
		if len(byID) != 2 || byID[g1]["display"] != "Team One" || byID[g2]["display"] != "Team Two" {
			t.Fatalf("groups = %v", u["groups"])
		}
		if ref := byID[g1]["$ref"]; ref != e.srv.URL+"/scim/v2/Groups/"+g1 {
			t.Errorf("groups $ref = %v", ref)
		}
		if only := e.get("/Users/"+u1+"?attributes=groups").want(t, http.StatusOK).JSON; len(list(only["groups"])) != 2 || only["userName"] != nil {
			t.Errorf("attributes=groups: %v", only)
		}
		if none := e.get("/Users/"+u1+"?excludedAttributes=groups").want(t, http.StatusOK).JSON; none["groups"] != nil {
			t.Errorf("excludedAttributes=groups: %v", none)
		}
		e.patch("/Groups/"+g2, ops("replace", "displayName", "Team 2")).want(t, http.StatusNoContent)
		e.patch("/Groups/"+g1, ops("remove", `members[value eq "`+u1+`"]`, nil)).want(t, http.StatusNoContent)
		u = e.get("/Users/"+u1).want(t, http.StatusOK).JSON
		if gs := list(u["groups"]); len(gs) != 1 || path(gs[0], "value") != g2 || path(gs[0], "display") != "Team 2" {
			t.Errorf("after rename and removal groups = %v", u["groups"])
		}
		// The list shows the same computed attribute.
		r := e.get("/Users" + query("filter", `userName eq "m1@corp.example"`))
		if gs := list(path(list(r.JSON["Resources"])[0], "groups")); len(gs) != 1 {
			t.Errorf("list groups = %v", gs)
		}
	})
	t.Run("delete user leaves groups", func(t *testing.T) {
		e.del("/Users/"+u2).want(t, http.StatusNoContent)
		if got := e.memberIDs(g1); len(got) != 0 {
			t.Errorf("members of %s after deleting %s: %v", g1, u2, got)
		}
		ok, err := e.db.IsMember(context.Background(), g1, u2)
		if err != nil || ok {
			t.Errorf("IsMember = %v, %v", ok, err)
		}
	})
	t.Run("unknown members", func(t *testing.T) {
		e.post("/Groups", map[string]any{"displayName": "Ghosts", "members": memberList(u1, "no-such-user")}).
			wantError(t, http.StatusBadRequest, "invalidValue")
		if ids := listIDs(t, e.get("/Groups"+query("filter", `displayName eq "Ghosts"`))); len(ids) != 0 {
			t.Errorf("group created despite unknown member: %v", ids)
		}
		r := e.patch("/Groups/"+g2, ops("add", "members", memberList("no-such-user")))
		r.wantError(t, http.StatusBadRequest, "invalidValue")
		e.patch("/Groups/"+g2, ops("replace", "members", memberList(u1, u2))).wantError(t, http.StatusBadRequest, "invalidValue")
		e.put("/Groups/"+g2, map[string]any{"displayName": "Team 2", "members": memberList("no-such-user")}).
			wantError(t, http.StatusBadRequest, "invalidValue")
		e.patch("/Groups/"+g2, ops("add", "members", []any{map[string]any{"value": g1, "type": "Group"}})).
			wantError(t, http.StatusBadRequest, "invalidValue")
		// An element without a value adds nobody (or is refused).
		if r := e.patch("/Groups/"+g2, ops("add", "members", []any{map[string]any{"display": "no value"}})); r.Status != http.StatusNoContent {
			r.wantError(t, http.StatusBadRequest, "invalidValue")
		}
		// A failed request changes nothing, not even the part before the bad member.
		e.patch("/Groups/"+g2, map[string]any{"schemas": []string{patchURN}, "Operations": []any{
			map[string]any{"op": "replace", "path": "displayName", "value": "Renamed"},
			map[string]any{"op": "add", "path": "members", "value": memberList("no-such-user")},
		}}).wantError(t, http.StatusBadRequest, "invalidValue")
		if g := e.get("/Groups/"+g2).want(t, http.StatusOK).JSON; g["displayName"] != "Team 2" || !slices.Equal(valuesOf(g["members"]), []string{u1}) {
			t.Errorf("group after failed PATCH: %v", g)
		}
	})
}

// TestMembersFilter: a group's members live outside its document, yet a
// filter on members must see them.
func TestMembersFilter(t *testing.T) {
	e := newEnv(t)
	u1, u2, u3 := e.createUser("f1"), e.createUser("f2"), e.createUser("f3")
	ga := e.createGroup("alpha", u1, u2)
	gb := e.createGroup("beta", u2)
	gc := e.createGroup("gamma")

	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`members[value eq "` + u1 + `"]`, []string{ga}},
		{`members[value eq "` + u2 + `"]`, sorted(ga, gb)},
		{`members[value eq "` + u3 + `"]`, nil},
		{`members.value eq "` + u2 + `"`, sorted(ga, gb)},
		{`members[value eq "` + u1 + `"] and displayName eq "alpha"`, []string{ga}},
		{`members[value eq "` + u2 + `"] and displayName eq "beta"`, []string{gb}},
		{`members[value eq "` + u1 + `"] and displayName eq "beta"`, nil},
		{`displayName eq "alpha" and members.value eq "` + u1 + `"`, []string{ga}},
		{`members[value eq "` + u1 + `"] or displayName eq "gamma"`, sorted(ga, gc)},
		{`members pr`, sorted(ga, gb)},
		{`not (members pr)`, []string{gc}},
		{`members[value sw "` + u2[:8] + `"]`, sorted(ga, gb)},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			r := e.get("/Groups" + query("filter", tc.filter, "excludedAttributes", "members"))
			if ids := listIDs(t, r); !slices.Equal(sortedCopy(ids), tc.want) && !(len(ids) == 0 && len(tc.want) == 0) {
				t.Errorf("ids %v, want %v", ids, tc.want)
			}
			for _, res := range list(r.JSON["Resources"]) {
				if obj(res)["members"] != nil {
					t.Errorf("excludedAttributes=members returned members")
				}
			}
			// The same through .search, with members returned.
			r = e.post("/Groups/.search", map[string]any{"schemas": []string{searchURN}, "filter": tc.filter})
			if ids := listIDs(t, r); !slices.Equal(sortedCopy(ids), tc.want) && !(len(ids) == 0 && len(tc.want) == 0) {
				t.Errorf(".search ids %v, want %v", ids, tc.want)
			}
		})
	}
	// The same holds for the computed groups attribute of users.
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`groups[value eq "` + ga + `"]`, sorted(u1, u2)},
		{`groups.value eq "` + gb + `"`, []string{u2}},
		{`groups.display eq "beta" and userName eq "f2"`, []string{u2}},
		{`groups pr`, sorted(u1, u2)},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			r := e.get("/Users" + query("filter", tc.filter, "attributes", "userName"))
			if ids := listIDs(t, r); !slices.Equal(sortedCopy(ids), tc.want) {
				t.Errorf("ids %v, want %v", ids, tc.want)
			}
		})
	}
}

// scanlessStore fails every scan, so a list can only answer from indexes.
type scanlessStore struct{ store.Store }

var errScan = errors.New("scan not allowed in this test")

func (scanlessStore) ScanUsers(context.Context, string, int) (store.Page[store.User], error) {
	return store.Page[store.User]{}, errScan
}

func (scanlessStore) ScanGroups(context.Context, string, int) (store.Page[store.Group], error) {
	return store.Page[store.Group]{}, errScan
}

func TestFilterPlanning(t *testing.T) {
	e := newEnv(t, withStore(func(s store.Store) store.Store { return scanlessStore{s} }))
	alice := e.createUser("alice@corp.example", "externalId", "ext-a", "title", "x",
		"emails", []any{map[string]any{"type": "work", "value": "alice@corp.example"}})
	bob := e.createUser("bob@corp.example", "title", "x")
	g := e.createGroup("Planned", alice)

	for _, tc := range []struct {
		endpoint, filter string
		want             []string
	}{
		{"/Users", `userName eq "ALICE@corp.example"`, []string{alice}},
		{"/Users", `userName eq "nobody"`, nil},
		{"/Users", `userName sw "bob"`, []string{bob}},
		{"/Users", `externalId eq "ext-a"`, []string{alice}},
		{"/Users", `emails.value eq "alice@corp.example"`, []string{alice}},
		{"/Users", `emails[type eq "work"].value eq "alice@corp.example"`, []string{alice}},
		{"/Users", `userName eq "alice@corp.example" and title eq "x"`, []string{alice}},
		{"/Users", `userName eq "alice@corp.example" or userName eq "bob@corp.example"`, sorted(alice, bob)},
		{"/Groups", `displayName eq "planned"`, []string{g}},
		{"/Groups", `members[value eq "` + alice + `"]`, []string{g}},
		{"/Groups", `members[value eq "` + alice + `"] and displayName eq "Planned"`, []string{g}},
		{"/Users", `groups[value eq "` + g + `"]`, []string{alice}},
		{"/Users", `groups.value eq "` + g + `" and userName sw "alice"`, []string{alice}},
		{"/Users", `groups.value eq "no-such-group"`, nil},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			ids := listIDs(t, e.get(tc.endpoint+query("filter", tc.filter)))
			if !slices.Equal(sortedCopy(ids), tc.want) && !(len(ids) == 0 && len(tc.want) == 0) {
				t.Errorf("ids %v, want %v", ids, tc.want)
			}
		})
	}

	// Without the failing wrapper, a filter no index answers scans.
	e2 := newEnv(t)
	a2 := e2.createUser("a2", "title", "x")
	e2.createUser("b2", "title", "y")
	if ids := listIDs(t, e2.get("/Users"+query("filter", `title eq "x"`))); !slices.Equal(ids, []string{a2}) {
		t.Errorf("title eq x: %v", ids)
	}
	if ids := listIDs(t, e2.get("/Users"+query("filter", `title eq "X"`))); !slices.Equal(ids, []string{a2}) {
		t.Errorf("title eq X (caseExact false): %v", ids)
	}
}

// Unfiltered pages come from key-only id walks: no page, however deep,
// decodes the records before it.
func TestUnfilteredPagingDoesNotScan(t *testing.T) {
	e := newEnv(t, withStore(func(s store.Store) store.Store { return scanlessStore{s} }))
	var all []string
	for i := range 7 {
		all = append(all, e.createUser(fmt.Sprintf("page%d@corp.example", i)))
	}
	all = sortedCopy(all)
	for _, tc := range []struct{ start, count, from, to int }{
		{1, 3, 0, 3}, {4, 3, 3, 6}, {7, 3, 6, 7}, {8, 3, 7, 7}, {0, 100, 0, 7},
	} {
		body := e.get(fmt.Sprintf("/Users?startIndex=%d&count=%d", tc.start, tc.count))
		if ids := listIDs(t, body); !slices.Equal(ids, all[tc.from:tc.to]) && !(len(ids) == 0 && tc.from == tc.to) {
			t.Errorf("startIndex=%d count=%d: %v, want %v", tc.start, tc.count, ids, all[tc.from:tc.to])
		}
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("metrics@corp.example")
	e.get("/Users/"+id).want(t, http.StatusOK)
	e.get("/Users/"+id).want(t, http.StatusOK)
	e.get("/Users/nope").want(t, http.StatusNotFound)
	e.post("/Groups", map[string]any{"displayName": "m"}).want(t, http.StatusCreated)
	e.get("/Users", hdr{"Authorization", "Bearer wrong"}).want(t, http.StatusUnauthorized)
	e.get("/ServiceProviderConfig").want(t, http.StatusOK)

	for _, tc := range []struct {
		resource, method, status string
		want                     float64
	}{
		{"User", "POST", "201", 1},
		{"User", "GET", "200", 2},
		{"User", "GET", "404", 1},
		{"User", "GET", "401", 1},
		{"Group", "POST", "201", 1},
		{"ServiceProviderConfig", "GET", "200", 1},
	} {
		if got := testutil.ToFloat64(e.m.SCIMRequests.WithLabelValues(tc.resource, tc.method, tc.status)); got != tc.want {
			t.Errorf("sagebridge_scim_requests_total{%s,%s,%s} = %v, want %v", tc.resource, tc.method, tc.status, got, tc.want)
		}
	}
	if got := testutil.ToFloat64(e.m.SCIMRejected.WithLabelValues("unauthorized")); got != 1 {
		t.Errorf("rejected{unauthorized} = %v", got)
	}
	if n := testutil.CollectAndCount(e.m.SCIMDuration); n == 0 {
		t.Error("no request duration observed")
	}
	problems, err := testutil.GatherAndLint(e.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	if n, err := testutil.GatherAndCount(e.reg, "sagebridge_scim_requests_total", "sagebridge_store_users"); err != nil || n == 0 {
		t.Errorf("gathered %d series: %v", n, err)
	}
}

// TestNullMeansUnassigned: null is "no value" (RFC 7643 §2.5) at any depth
// of a POST or PUT body, as in Entra's {"$ref": null}.
func TestNullMeansUnassigned(t *testing.T) {
	e := newEnv(t)
	u := e.createUser("null-member")
	r := e.post("/Users", map[string]any{
		"userName": "nulls", "title": nil,
		"name":   map[string]any{"givenName": "A", "middleName": nil},
		"emails": []any{map[string]any{"value": "a@corp.example", "type": nil}, nil},
		entURN:   map[string]any{"manager": nil, "department": "D"},
	}).want(t, http.StatusCreated)
	if r.JSON["title"] != nil || path(r.JSON, "name", "givenName") != "A" || len(list(r.JSON["emails"])) != 1 ||
		path(r.JSON, entURN, "department") != "D" || path(r.JSON, entURN, "manager") != nil {
		t.Errorf("created %s", r.Raw)
	}
	r = e.post("/Groups", map[string]any{"displayName": "nulls", "members": []any{map[string]any{"value": u, "$ref": nil}}}).
		want(t, http.StatusCreated)
	gid := str(r.JSON["id"])
	if got := valuesOf(r.JSON["members"]); !slices.Equal(got, []string{u}) {
		t.Errorf("members %v", got)
	}
	e.put("/Groups/"+gid, map[string]any{"displayName": "nulls", "externalId": nil, "members": []any{map[string]any{"value": u, "$ref": nil, "display": nil}}}).
		want(t, http.StatusOK)
}

// POST /.search spans Users then Groups as one paged list; a filter naming
// an attribute only one type has searches that type alone.
func TestRootSearch(t *testing.T) {
	e := newEnv(t)
	alice := e.createUser("alice@corp.example", "displayName", "Alpha Alice")
	bob := e.createUser("bob@corp.example", "displayName", "Beta Bob")
	g := e.createGroup("Alpha Team", alice)
	users := sorted(alice, bob)
	search := func(body map[string]any) *resp {
		body["schemas"] = []string{searchURN}
		return e.post("/.search", body)
	}

	r := search(map[string]any{})
	if ids := listIDs(t, r); !slices.Equal(ids, append(slices.Clone(users), g)) || total(t, r) != 3 {
		t.Fatalf("everything: %v (total %d)", ids, total(t, r))
	}
	for _, tc := range []struct {
		start, count int
		want         []string
	}{{1, 2, users}, {2, 2, []string{users[1], g}}, {3, 5, []string{g}}, {4, 5, nil}} {
		r := search(map[string]any{"startIndex": tc.start, "count": tc.count})
		if ids := listIDs(t, r); !slices.Equal(ids, tc.want) || total(t, r) != 3 {
			t.Errorf("startIndex=%d count=%d: %v (total %d), want %v", tc.start, tc.count, ids, total(t, r), tc.want)
		}
	}
	r = search(map[string]any{"filter": `displayName sw "alpha"`})
	if ids := listIDs(t, r); !slices.Equal(ids, []string{alice, g}) {
		t.Errorf("displayName sw alpha: %v", ids)
	}
	r = search(map[string]any{"filter": `userName eq "bob@corp.example"`, "attributes": []string{"userName"}})
	if ids := listIDs(t, r); !slices.Equal(ids, []string{bob}) {
		t.Errorf("userName filter: %v", ids)
	}
	search(map[string]any{"filter": `shoeSize gt 40`}).wantError(t, http.StatusBadRequest, "invalidFilter")
}
