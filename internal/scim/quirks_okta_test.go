package scim_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// oktaHeaders are what the Okta SPEC test sends on every request.
var oktaHeaders = []hdr{
	{"Accept", "application/scim+json"},
	{"Accept-Charset", "utf-8"},
	{"Content-Type", "application/scim+json; charset=utf-8"},
	{"User-Agent", "OKTA SCIM Integration"},
}

func TestQuirkB1CreateWithPlaceholderPassword(t *testing.T) {
	e := newEnv(t)
	const lookup = "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100"
	r := e.get(lookup, oktaHeaders...)
	if ids := listIDs(t, r); len(ids) != 0 || total(t, r) != 0 {
		t.Fatalf("lookup before create: %s", r.Raw)
	}

	r = e.post("/Users", map[string]any{
		"schemas":     []string{userURN},
		"userName":    "test.user@okta.local",
		"name":        map[string]any{"givenName": "Test", "familyName": "User"},
		"emails":      []any{map[string]any{"primary": true, "value": "test.user@okta.local", "type": "work"}},
		"displayName": "Test User",
		"locale":      "en-US",
		"externalId":  "00ujl29u0le5T6Aj10h7",
		"groups":      []any{},
		"password":    "1mz050nq",
		"active":      true,
	}, hdr{"Content-Type", "application/json"}, hdr{"User-Agent", "Okta SCIM Client 1.0.0"}).want(t, http.StatusCreated)
	u := r.JSON
	id := str(u["id"])
	if u["userName"] != "test.user@okta.local" || u["displayName"] != "Test User" || u["locale"] != "en-US" ||
		u["externalId"] != "00ujl29u0le5T6Aj10h7" || u["active"] != true || path(u, "name", "givenName") != "Test" ||
		len(list(u["emails"])) != 1 || id == "" || path(u, "meta", "resourceType") != "User" {
		t.Errorf("create returned %v, want the full user", u)
	}
	noPassword := func(where string, raw []byte) {
		t.Helper()
		if bytes.Contains(raw, []byte("1mz050nq")) || bytes.Contains(bytes.ToLower(raw), []byte(`"password"`)) {
			t.Errorf("%s contains the password: %s", where, raw)
		}
	}
	noPassword("POST response", r.Raw)
	noPassword("GET response", e.get("/Users/"+id).want(t, http.StatusOK).Raw)
	noPassword("GET attributes=password", e.get("/Users/"+id+"?attributes=password").want(t, http.StatusOK).Raw)

	r = e.get(lookup, oktaHeaders...)
	if ids := listIDs(t, r); !slices.Equal(ids, []string{id}) {
		t.Fatalf("lookup after create: %v", ids)
	}
	noPassword("list response", r.Raw)

	// Neither does a PUT or PATCH with a password store it.
	e.put("/Users/"+id, map[string]any{"userName": "test.user@okta.local", "password": "p2-secret"}).want(t, http.StatusOK)
	e.patch("/Users/"+id, ops("replace", "password", "p3-secret", "replace", "", map[string]any{"password": "p4-secret"})).
		want(t, http.StatusOK)
	stored, err := e.db.GetUser(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"1mz050nq", "p2-secret", "p3-secret", "p4-secret", "password"} {
		if bytes.Contains(stored.Data, []byte(secret)) {
			t.Errorf("stored Data contains %q: %s", secret, stored.Data)
		}
	}
}

func TestQuirkB2CaseInsensitiveDuplicate(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("RunscopeX@atko.com", "emails", []any{map[string]any{"value": "shared@atko.com"}})

	for _, name := range []string{"RunscopeX@atko.com", "runscopex@atko.com", "RUNSCOPEX@ATKO.COM"} {
		r := e.post("/Users", map[string]any{"schemas": []string{userURN}, "userName": name}, hdr{"Content-Type", "application/json"})
		r.wantError(t, http.StatusConflict, "uniqueness")
	}
	r := e.get("/Users" + query("filter", `userName eq "RUNSCOPEX@ATKO.COM"`))
	if ids := listIDs(t, r); !slices.Equal(ids, []string{id}) {
		t.Fatalf("case-insensitive filter found %v", ids)
	}
	if got := path(list(r.JSON["Resources"])[0], "userName"); got != "RunscopeX@atko.com" {
		t.Errorf("userName = %v, want the stored case", got)
	}
	if got := e.get("/Users/"+id).want(t, http.StatusOK).JSON["userName"]; got != "RunscopeX@atko.com" {
		t.Errorf("GET userName = %v", got)
	}
	if stored, err := e.db.GetUser(context.Background(), id); err != nil || stored.UserName != "RunscopeX@atko.com" {
		t.Errorf("stored userName %q, %v", stored.UserName, err)
	}
	// Uniqueness is on userName only: a second user may share the email.
	other := e.createUser("other@atko.com", "emails", []any{map[string]any{"value": "shared@atko.com"}})
	// A rename onto a taken name, in another case, conflicts too.
	e.put("/Users/"+other, map[string]any{"userName": "runscopex@ATKO.com"}).wantError(t, http.StatusConflict, "uniqueness")
	e.patch("/Users/"+other, ops("replace", "userName", "RUNSCOPEX@atko.com")).wantError(t, http.StatusConflict, "uniqueness")
	// A user may change the case of its own name.
	e.patch("/Users/"+id, ops("replace", "userName", "runscopex@atko.com")).want(t, http.StatusOK)
	if got := e.get("/Users/"+id).want(t, http.StatusOK).JSON["userName"]; got != "runscopex@atko.com" {
		t.Errorf("after case change userName = %v", got)
	}
}

func TestQuirkB3FullPut(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("test.user@okta.local",
		"name", map[string]any{"givenName": "Test", "familyName": "User"},
		"title", "Engineer", "nickName", "TU",
		"emails", []any{map[string]any{"primary": true, "value": "test.user@okta.local", "type": "work"}})
	gid := e.createGroup("B3", id)

	body := e.get("/Users/"+id).want(t, http.StatusOK).JSON
	created := path(body, "meta", "created")
	body["name"] = map[string]any{"givenName": "Another", "middleName": "Excited", "familyName": "User"}
	delete(body, "title")
	delete(body, "nickName")
	body["groups"] = []any{} // read-only: must not leave the group
	body["meta"] = map[string]any{"resourceType": "User", "version": `W/"1"`}
	body["emails"] = []any{map[string]any{"primary": true, "value": "test.user@okta.local", "type": "work", "display": "test.user@okta.local"}}

	r := e.put("/Users/"+id, body, oktaHeaders...).want(t, http.StatusOK)
	u := r.JSON
	if u["id"] != id || path(u, "name", "givenName") != "Another" || path(u, "name", "middleName") != "Excited" {
		t.Errorf("PUT returned %v", u)
	}
	for _, gone := range []string{"title", "nickName"} {
		if _, ok := u[gone]; ok {
			t.Errorf("%s = %v after a PUT without it", gone, u[gone])
		}
	}
	if got := valuesOf(u["groups"]); !slices.Equal(got, []string{gid}) {
		t.Errorf("groups = %v, want the membership unchanged", got)
	}
	if got := e.memberIDs(gid); !slices.Equal(got, []string{id}) {
		t.Errorf("group members = %v", got)
	}
	if path(u, "meta", "created") != created {
		t.Errorf("meta.created changed: %v -> %v", created, path(u, "meta", "created"))
	}
	if got := path(list(u["emails"])[0], "display"); got != "test.user@okta.local" {
		t.Errorf("emails display = %v", got)
	}

	// Custom Okta apps deactivate by PUT.
	body = e.get("/Users/"+id).want(t, http.StatusOK).JSON
	body["active"] = false
	if u := e.put("/Users/"+id, body, oktaHeaders...).want(t, http.StatusOK).JSON; u["active"] != false {
		t.Errorf("PUT active false: %v", u["active"])
	}
	// A PUT whose id differs from the URL still replaces the URL's user.
	body["id"] = "someone-else"
	e.put("/Users/"+id, body).want(t, http.StatusOK)
	e.get("/Users/someone-else").wantError(t, http.StatusNotFound, "")
	e.put("/Users/"+id, map[string]any{"name": map[string]any{"givenName": "X"}}).wantError(t, http.StatusBadRequest, "invalidValue")
}

func TestQuirkB4PathlessActive(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("b4@okta.local")
	for _, active := range []bool{false, true, false} {
		r := e.patch("/Users/"+id, ops("replace", "", map[string]any{"active": active}))
		if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
			t.Fatalf("PATCH active %v: %d %s", active, r.Status, r.Raw)
		}
		// Okta looks the user up by name before reactivating.
		l := e.get("/Users" + query("filter", `userName eq "b4@okta.local"`))
		if ids := listIDs(t, l); !slices.Equal(ids, []string{id}) || path(list(l.JSON["Resources"])[0], "active") != active {
			t.Errorf("after active=%v the lookup returned %s", active, l.Raw)
		}
	}
}

func TestQuirkB5GroupPush(t *testing.T) {
	e := newEnv(t)
	a, b, c := e.createUser("b5-a"), e.createUser("b5-b"), e.createUser("b5-c")
	r := e.post("/Groups", map[string]any{"schemas": []string{groupURN}, "displayName": "Test SCIMv2", "members": []any{}}).
		want(t, http.StatusCreated)
	g := str(r.JSON["id"])
	e.patch("/Groups/"+g, ops("add", "members", memberList(a, b))).want(t, http.StatusNoContent)

	t.Run("rename keeps members", func(t *testing.T) {
		for _, name := range []string{"Test SCIMv2", "Renamed"} {
			r := e.patch("/Groups/"+g, ops("replace", "", map[string]any{"id": g, "displayName": name}))
			if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
				t.Fatalf("rename: %d %s", r.Status, r.Raw)
			}
			grp := e.get("/Groups/"+g).want(t, http.StatusOK).JSON
			if grp["displayName"] != name || !slices.Equal(valuesOf(grp["members"]), sorted(a, b)) {
				t.Errorf("after rename to %q: %v", name, grp)
			}
		}
		e.patch("/Groups/"+g, ops("replace", "", map[string]any{"id": "not-" + g, "displayName": "X"})).
			wantError(t, http.StatusBadRequest, "mutability")
		e.patch("/Groups/"+g, ops("replace", "", map[string]any{"id": g, "displayName": "Test SCIMv2"})).want(t, http.StatusNoContent)
	})
	t.Run("filtered remove and add", func(t *testing.T) {
		e.patch("/Groups/"+g, map[string]any{"schemas": []string{patchURN}, "Operations": []any{
			map[string]any{"op": "replace", "value": map[string]any{"id": g, "displayName": "Test SCIMv2"}},
			map[string]any{"op": "remove", "path": `members[value eq "` + a + `"]`},
			map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": c, "display": "b5-c"}}},
		}}).want(t, http.StatusNoContent)
		if got := e.memberIDs(g); !slices.Equal(got, sorted(b, c)) {
			t.Errorf("members = %v, want %v", got, sorted(b, c))
		}
	})
	t.Run("replace members", func(t *testing.T) {
		e.patch("/Groups/"+g, ops("replace", "members", memberList(a, c))).want(t, http.StatusNoContent)
		if got := e.memberIDs(g); !slices.Equal(got, sorted(a, c)) {
			t.Errorf("members = %v, want %v", got, sorted(a, c))
		}
		e.patch("/Groups/"+g, ops("replace", "members", []any{})).want(t, http.StatusNoContent)
		if got := e.memberIDs(g); len(got) != 0 {
			t.Errorf("members = %v after replace with []", got)
		}
	})
	t.Run("add without type and with type User", func(t *testing.T) {
		e.patch("/Groups/"+g, ops("add", "members", []any{
			map[string]any{"value": a}, map[string]any{"value": b, "type": "User"},
		})).want(t, http.StatusNoContent)
		if got := e.memberIDs(g); !slices.Equal(got, sorted(a, b)) {
			t.Errorf("members = %v", got)
		}
		// Adding an existing member again is not an error.
		e.patch("/Groups/"+g, ops("add", "members", memberList(a))).want(t, http.StatusNoContent)
	})
	t.Run("PUT with the full member list", func(t *testing.T) {
		r := e.put("/Groups/"+g, map[string]any{"schemas": []string{groupURN}, "displayName": "Test SCIMv2", "members": memberList(b, c)}).
			want(t, http.StatusOK)
		if got := valuesOf(r.JSON["members"]); !slices.Equal(got, sorted(b, c)) {
			t.Errorf("PUT members = %v", got)
		}
	})
	t.Run("lookup and delete", func(t *testing.T) {
		r := e.get("/Groups?filter=displayName%20eq%20%22Test%20SCIMv2%22&startIndex=1&count=100")
		if ids := listIDs(t, r); !slices.Equal(ids, []string{g}) {
			t.Fatalf("lookup: %v", ids)
		}
		e.del("/Groups/"+g).want(t, http.StatusNoContent)
		e.get("/Groups/"+g).wantError(t, http.StatusNotFound, "")
		if u := e.get("/Users/"+b).want(t, http.StatusOK).JSON; u["groups"] != nil {
			t.Errorf("user still lists the deleted group: %v", u["groups"])
		}
	})
}

func TestQuirkB6Paging(t *testing.T) {
	e := newEnv(t)
	const n = 25
	want := map[string]bool{}
	for i := range n {
		want[e.createUser(fmt.Sprintf("page-%02d@okta.local", i))] = true
	}
	e.createGroup("not a user")

	pages := func(t *testing.T, get func(start, count int) *resp) []string {
		var all []string
		for start := 1; start <= n; start += 10 {
			r := get(start, 10)
			ids := listIDs(t, r)
			if total(t, r) != n {
				t.Errorf("totalResults %v, want %d", r.JSON["totalResults"], n)
			}
			for _, k := range []string{"startIndex", "itemsPerPage"} {
				if _, ok := r.JSON[k].(float64); !ok {
					t.Errorf("%s is %T, want a JSON integer: %s", k, r.JSON[k], r.Raw)
				}
			}
			if int(r.JSON["startIndex"].(float64)) != start || int(r.JSON["itemsPerPage"].(float64)) != len(ids) {
				t.Errorf("page at %d: startIndex %v, itemsPerPage %v, %d resources", start, r.JSON["startIndex"], r.JSON["itemsPerPage"], len(ids))
			}
			if wantLen := min(10, n-start+1); len(ids) != wantLen {
				t.Errorf("page at %d has %d resources, want %d", start, len(ids), wantLen)
			}
			all = append(all, ids...)
		}
		if len(all) != n {
			t.Errorf("pages returned %d users, want %d", len(all), n)
		}
		for _, id := range all {
			if !want[id] {
				t.Errorf("unexpected id %s", id)
			}
		}
		if len(slices.Compact(sortedCopy(all))) != len(all) {
			t.Errorf("a user appears on two pages: %v", all)
		}
		return all
	}
	t.Run("GET", func(t *testing.T) {
		get := func(start, count int) *resp {
			return e.get(fmt.Sprintf("/Users?startIndex=%d&count=%d", start, count), oktaHeaders...)
		}
		first := pages(t, get)
		if again := pages(t, get); !slices.Equal(first, again) {
			t.Errorf("order is not stable:\n%v\n%v", first, again)
		}
	})
	t.Run("GET filtered", func(t *testing.T) {
		pages(t, func(start, count int) *resp {
			return e.get("/Users" + query("filter", `userName sw "page-"`, "startIndex", fmt.Sprint(start), "count", fmt.Sprint(count)))
		})
	})
	t.Run("search with integers", func(t *testing.T) {
		pages(t, func(start, count int) *resp {
			return e.post("/Users/.search", map[string]any{"schemas": []string{searchURN}, "startIndex": start, "count": count})
		})
	})
	t.Run("edges", func(t *testing.T) {
		r := e.get("/Users?startIndex=100&count=10")
		if ids := listIDs(t, r); len(ids) != 0 || total(t, r) != n {
			t.Errorf("past the end: %s", r.Raw)
		}
		r = e.get("/Users?count=0")
		if ids := listIDs(t, r); len(ids) != 0 || total(t, r) != n {
			t.Errorf("count=0: %s", r.Raw)
		}
		r = e.get("/Users?startIndex=0&count=-3")
		if ids := listIDs(t, r); len(ids) != 0 || total(t, r) != n || r.JSON["startIndex"] != 1.0 {
			t.Errorf("startIndex=0&count=-3: %s", r.Raw)
		}
		if ids := listIDs(t, e.get("/Users")); len(ids) != n {
			t.Errorf("default count returned %d", len(ids))
		}
		e.get("/Users?startIndex=one").wantError(t, http.StatusBadRequest, "invalidValue")
		e.post("/Users/.search", `{"schemas":["`+searchURN+`"],"startIndex":"1"}`).wantError(t, http.StatusBadRequest, "invalidSyntax")
	})
	t.Run("error shape", func(t *testing.T) {
		r := e.get("/Users/nope")
		if !strings.Contains(string(r.Raw), `"status":"404"`) {
			t.Errorf("status must be the string \"404\": %s", r.Raw)
		}
	})
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
