package scim_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
)

// Tests named TestQuirk<id> follow the items of
// shared/docs/reference/scim-client-quirks.md, one test per item.

const entraCT = "application/scim+json; charset=utf-8"

// entraPatch sends a PATCH the way Entra does: "PatchOp" short schema in
// the docs is the full URN on the wire, with a charset parameter.
func (e *env) entraPatch(path string, body any) *resp {
	e.t.Helper()
	return e.patch(path, body, hdr{"Content-Type", entraCT})
}

func TestQuirkA1CapitalisedOps(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("a1@corp.example", "name", map[string]any{"givenName": "Bo", "familyName": "Old"}, "title", "Eng")

	e.entraPatch("/Users/"+id, ops(
		"Replace", "name.familyName", "Lee",
		"Add", "nickName", "Babs",
		"Remove", "title", nil,
	)).want(t, http.StatusOK)

	u := e.get("/Users/"+id).want(t, http.StatusOK).JSON
	if got := path(u, "name", "familyName"); got != "Lee" {
		t.Errorf("name.familyName = %v, want Lee", got)
	}
	if got := path(u, "name", "givenName"); got != "Bo" {
		t.Errorf("name.givenName = %v, want Bo (untouched)", got)
	}
	if u["nickName"] != "Babs" {
		t.Errorf("nickName = %v, want Babs", u["nickName"])
	}
	if _, ok := u["title"]; ok {
		t.Errorf("title = %v after Remove", u["title"])
	}
	for _, op := range []string{"REPLACE", "rePlace", "ADD"} {
		e.entraPatch("/Users/"+id, ops(op, "displayName", op)).want(t, http.StatusOK)
	}
	e.entraPatch("/Users/"+id, ops("Delete", "displayName", "x")).wantError(t, http.StatusBadRequest, "invalidSyntax")
}

func TestQuirkA2BooleanStrings(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("a2@corp.example")
	for _, tc := range []struct {
		value any
		want  bool
	}{
		{"False", false}, {"True", true}, {"false", false}, {"TRUE", true},
		{false, false}, {true, true},
	} {
		e.entraPatch("/Users/"+id, ops("Replace", "active", tc.value)).want(t, http.StatusOK)
		u := e.get("/Users/"+id).want(t, http.StatusOK).JSON
		if u["active"] != tc.want {
			t.Errorf("after replace active %#v: active = %#v, want %v", tc.value, u["active"], tc.want)
		}
		stored, err := e.db.GetUser(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Active != tc.want {
			t.Errorf("after replace active %#v: stored Active = %v", tc.value, stored.Active)
		}
	}
	// The MS Postman collection creates with "active": "True".
	r := e.post("/Users", map[string]any{"schemas": []string{userURN}, "userName": "a2b@corp.example", "active": "False"}).
		want(t, http.StatusCreated)
	if r.JSON["active"] != false {
		t.Errorf("POST active \"False\": active = %#v", r.JSON["active"])
	}
	e.entraPatch("/Users/"+id, ops("Replace", "active", "maybe")).wantError(t, http.StatusBadRequest, "invalidValue")
}

func TestQuirkA3FilteredValuePaths(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("a3@corp.example", "emails", []any{
		map[string]any{"type": "work", "value": "old@corp.example", "primary": true},
		map[string]any{"type": "home", "value": "me@home.example"},
	})
	e.entraPatch("/Users/"+id, ops(
		"Replace", `emails[type eq "work"].value`, "new@corp.example",
		"Add", `addresses[type eq "work"].formatted`, "18/2111",
		"Replace", `phoneNumbers[type eq "mobile"].value`, "+1 555 0100",
	)).want(t, http.StatusOK)

	u := e.get("/Users/"+id).want(t, http.StatusOK).JSON
	emails := map[string]string{}
	for _, m := range list(u["emails"]) {
		emails[str(obj(m)["type"])] = str(obj(m)["value"])
	}
	if emails["work"] != "new@corp.example" || emails["home"] != "me@home.example" || len(emails) != 2 {
		t.Errorf("emails = %v, want work replaced and home kept", u["emails"])
	}
	if a := list(u["addresses"]); len(a) != 1 || path(a[0], "type") != "work" || path(a[0], "formatted") != "18/2111" {
		t.Errorf("addresses = %v, want one work address created", u["addresses"])
	}
	if p := list(u["phoneNumbers"]); len(p) != 1 || path(p[0], "type") != "mobile" || path(p[0], "value") != "+1 555 0100" {
		t.Errorf("phoneNumbers = %v, want one mobile number created", u["phoneNumbers"])
	}
	// The work email is what Entra matches on next time.
	r := e.get("/Users" + query("filter", `emails[type eq "work"].value eq "new@corp.example"`))
	if ids := listIDs(t, r); !slices.Equal(ids, []string{id}) {
		t.Errorf("filter on the new work email found %v", ids)
	}
}

func TestQuirkA4PathlessDottedKeys(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("a4@corp.example", "name", map[string]any{"givenName": "B", "familyName": "X", "middleName": "M"})
	e.entraPatch("/Users/"+id, ops("replace", "", map[string]any{
		"displayName":              "Bjorn F",
		"name.givenName":           "Bjorn",
		"name.familyName":          "F",
		entURN + ":employeeNumber": "4711",
	})).want(t, http.StatusOK)

	u := e.get("/Users/"+id).want(t, http.StatusOK).JSON
	if u["displayName"] != "Bjorn F" {
		t.Errorf("displayName = %v", u["displayName"])
	}
	if n := obj(u["name"]); n["givenName"] != "Bjorn" || n["familyName"] != "F" || n["middleName"] != "M" {
		t.Errorf("name = %v, want givenName/familyName replaced, middleName kept", n)
	}
	if got := path(u, entURN, "employeeNumber"); got != "4711" {
		t.Errorf("employeeNumber = %v (user %v)", got, u)
	}
	if !slices.Contains(strs(u["schemas"]), entURN) {
		t.Errorf("schemas %v lack the enterprise extension", u["schemas"])
	}
	for k := range u {
		if k == "name.givenName" || k == "name.familyName" || k == entURN+":employeeNumber" {
			t.Errorf("literal key %q stored", k)
		}
	}
}

func TestQuirkA5EnterpriseByURN(t *testing.T) {
	e := newEnv(t)
	r := e.post("/Users", map[string]any{
		"schemas":  []string{userURN, entURN},
		"userName": "a5@corp.example",
		entURN:     map[string]any{"costCenter": "CC1"},
	}).want(t, http.StatusCreated)
	id := str(r.JSON["id"])
	if got := path(r.JSON, entURN, "costCenter"); got != "CC1" {
		t.Errorf("POST nested extension: costCenter = %v", got)
	}

	e.entraPatch("/Users/"+id, ops(
		"Add", entURN+":department", "Retail",
		"Replace", entURN+":employeeNumber", "4711",
		"Add", entURN+":manager", "u-boss",
	)).want(t, http.StatusOK)
	ext := obj(e.get("/Users/"+id).want(t, http.StatusOK).JSON[entURN])
	if ext["department"] != "Retail" || ext["employeeNumber"] != "4711" || ext["costCenter"] != "CC1" {
		t.Errorf("extension = %v", ext)
	}
	if m := obj(ext["manager"]); m["value"] != "u-boss" {
		t.Errorf("manager = %#v, want {value: u-boss}", ext["manager"])
	}

	// The RFC shape of manager, and the pre-2018 dot before the attribute.
	e.entraPatch("/Users/"+id, ops(
		"replace", entURN+":manager", map[string]any{"value": "u-boss2"},
		"replace", entURN+".division", "North",
	)).want(t, http.StatusOK)
	ext = obj(e.get("/Users/"+id).want(t, http.StatusOK).JSON[entURN])
	if path(ext, "manager", "value") != "u-boss2" || ext["division"] != "North" {
		t.Errorf("extension = %v", ext)
	}

	e.entraPatch("/Users/"+id, ops("Remove", entURN+":manager", nil)).want(t, http.StatusOK)
	ext = obj(e.get("/Users/"+id).want(t, http.StatusOK).JSON[entURN])
	if _, ok := ext["manager"]; ok {
		t.Errorf("manager = %v after Remove", ext["manager"])
	}
	// Entra re-sends the removal.
	e.entraPatch("/Users/"+id, ops("Remove", entURN+":manager", nil)).want(t, http.StatusOK)
}

func TestQuirkA6MemberRemoveByValue(t *testing.T) {
	e := newEnv(t)
	u1, u2, u3, u4 := e.createUser("a6-1"), e.createUser("a6-2"), e.createUser("a6-3"), e.createUser("a6-4")
	g := e.createGroup("A6", u1, u2, u3)

	r := e.entraPatch("/Groups/"+g, ops("Remove", "members", []any{map[string]any{"$ref": nil, "value": u1}}))
	r.want(t, http.StatusNoContent)
	if len(r.Raw) != 0 {
		t.Errorf("204 with a body: %s", r.Raw)
	}
	if got, want := e.memberIDs(g), sorted(u2, u3); !slices.Equal(got, want) {
		t.Fatalf("members after remove by value = %v, want %v", got, want)
	}
	e.entraPatch("/Groups/"+g, ops("remove", `members[value eq "`+u2+`"]`, nil)).want(t, http.StatusNoContent)
	if got, want := e.memberIDs(g), sorted(u3); !slices.Equal(got, want) {
		t.Fatalf("members after filtered remove = %v, want %v", got, want)
	}
	e.entraPatch("/Groups/"+g, ops("Add", "members", []any{
		map[string]any{"$ref": nil, "value": u4}, map[string]any{"$ref": nil, "value": u1},
	})).want(t, http.StatusNoContent)
	if got, want := e.memberIDs(g), sorted(u1, u3, u4); !slices.Equal(got, want) {
		t.Fatalf("members after add = %v, want %v", got, want)
	}
	// An empty value array is refused or removes nothing, but never all.
	if r := e.entraPatch("/Groups/"+g, ops("Remove", "members", []any{})); r.Status != http.StatusNoContent {
		r.wantError(t, http.StatusBadRequest, "invalidValue")
	}
	if got, want := e.memberIDs(g), sorted(u1, u3, u4); !slices.Equal(got, want) {
		t.Fatalf("members after remove with [] = %v, want %v", got, want)
	}
	// Removing a user that is not a member is not an error.
	e.entraPatch("/Groups/"+g, ops("Remove", "members", []any{map[string]any{"value": u2}})).want(t, http.StatusNoContent)
	// Only a bare remove of members empties the group.
	e.entraPatch("/Groups/"+g, ops("Remove", "members", nil)).want(t, http.StatusNoContent)
	if got := e.memberIDs(g); len(got) != 0 {
		t.Fatalf("members after bare remove = %v, want none", got)
	}
}

func TestQuirkA7LookupsBeforeCreate(t *testing.T) {
	e := newEnv(t)
	alice := e.createUser("alice@corp.example", "externalId", "jyoung", "emails",
		[]any{map[string]any{"type": "work", "value": "alice@corp.example"}, map[string]any{"type": "home", "value": "a@home.example"}})
	bob := e.createUser("bob@corp.example", "emails", []any{map[string]any{"type": "home", "value": "alice@corp.example"}})
	ds := e.createGroup("Data Scientists", alice, bob)
	e.createGroup("Other", bob)

	t.Run("test connection", func(t *testing.T) {
		// Verbatim from the Entra report: "+" for spaces, no Content-Type.
		r := e.get("/Users?filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22",
			hdr{"Content-Type", ""}, hdr{"Accept", "*/*"})
		if ids := listIDs(t, r); len(ids) != 0 || total(t, r) != 0 {
			t.Errorf("random GUID found %v (total %d)", ids, total(t, r))
		}
	})
	for _, tc := range []struct {
		name, endpoint, filter string
		want                   []string
	}{
		{"userName", "/Users", `userName eq "alice@corp.example"`, []string{alice}},
		{"userName other case", "/Users", `userName eq "ALICE@corp.EXAMPLE"`, []string{alice}},
		{"externalId", "/Users", `externalId eq "jyoung"`, []string{alice}},
		{"externalId unquoted", "/Users", `externalId eq jyoung`, []string{alice}},
		{"work email", "/Users", `emails[type eq "work"].value eq "alice@corp.example"`, []string{alice}},
		{"and", "/Users", `userName eq "alice@corp.example" and externalId eq "jyoung"`, []string{alice}},
		{"and miss", "/Users", `userName eq "alice@corp.example" and externalId eq "other"`, nil},
		{"group displayName", "/Groups", `displayName eq "Data Scientists"`, []string{ds}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(tc.endpoint + query("filter", tc.filter))
			if ids := listIDs(t, r); !slices.Equal(ids, tc.want) {
				t.Errorf("filter %s: ids %v, want %v", tc.filter, ids, tc.want)
			}
		})
	}
	t.Run("excludedAttributes=members", func(t *testing.T) {
		r := e.get("/Groups" + query("excludedAttributes", "members", "filter", `displayName eq "Data Scientists"`))
		if ids := listIDs(t, r); !slices.Equal(ids, []string{ds}) {
			t.Fatalf("ids %v", ids)
		}
		g := obj(list(r.JSON["Resources"])[0])
		if _, ok := g["members"]; ok || g["displayName"] != "Data Scientists" {
			t.Errorf("list with excludedAttributes=members: %v", g)
		}
		one := e.get("/Groups/"+ds+"?excludedAttributes=members").want(t, http.StatusOK).JSON
		if _, ok := one["members"]; ok || one["id"] != ds || one["displayName"] != "Data Scientists" {
			t.Errorf("GET with excludedAttributes=members: %v", one)
		}
		if got := e.memberIDs(ds); !slices.Equal(got, sorted(alice, bob)) {
			t.Errorf("GET without it: members %v", got)
		}
	})
}

func TestQuirkA8SoftDelete(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("a8@corp.example")
	e.entraPatch("/Users/"+id, map[string]any{
		"Operations": []any{map[string]any{"op": "Replace", "path": "active", "value": "False"}},
		"schemas":    []string{patchURN},
	}).want(t, http.StatusOK)

	if u := e.get("/Users/"+id).want(t, http.StatusOK).JSON; u["active"] != false {
		t.Errorf("GET disabled user: active = %#v", u["active"])
	}
	r := e.get("/Users" + query("filter", `userName eq "a8@corp.example"`))
	if ids := listIDs(t, r); !slices.Equal(ids, []string{id}) || path(list(r.JSON["Resources"])[0], "active") != false {
		t.Errorf("filter for disabled user: %s", r.Raw)
	}
	e.entraPatch("/Users/"+id, ops("Replace", "active", "True")).want(t, http.StatusOK)
	if u := e.get("/Users/"+id).want(t, http.StatusOK).JSON; u["active"] != true {
		t.Errorf("re-enabled user: active = %#v", u["active"])
	}

	r = e.del("/Users/"+id).want(t, http.StatusNoContent)
	if len(r.Raw) != 0 {
		t.Errorf("204 with body %s", r.Raw)
	}
	e.get("/Users/"+id).wantError(t, http.StatusNotFound, "")
	if ids := listIDs(t, e.get("/Users"+query("filter", `userName eq "a8@corp.example"`))); len(ids) != 0 {
		t.Errorf("deleted user still found: %v", ids)
	}
	e.del("/Users/"+id).wantError(t, http.StatusNotFound, "")
}

func TestQuirkA9CreatePayloads(t *testing.T) {
	e := newEnv(t)
	r := e.post("/Users", map[string]any{
		"schemas":    []string{userURN, entURN},
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"userName":   "alice@corp.example",
		"active":     true,
		"emails":     []any{map[string]any{"primary": true, "type": "work", "value": "alice@corp.example"}},
		"meta":       map[string]any{"resourceType": "User", "created": "2001-01-01T00:00:00Z", "version": `W/"99"`},
		"name":       map[string]any{"formatted": "Alice Lee", "familyName": "Lee", "givenName": "Alice"},
		"roles":      []any{},
		entURN:       map[string]any{"department": "Retail", "employeeNumber": "4711"},
	}, hdr{"Content-Type", entraCT}).want(t, http.StatusCreated)
	u := r.JSON
	id := str(u["id"])
	if id == "" || id == "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" {
		t.Errorf("id %q: the server assigns ids; externalId is not the id", id)
	}
	if u["externalId"] != "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" || path(u, entURN, "department") != "Retail" ||
		path(u, "name", "formatted") != "Alice Lee" || u["active"] != true {
		t.Errorf("created user = %v", u)
	}
	m := obj(u["meta"])
	if m["resourceType"] != "User" || m["created"] == "2001-01-01T00:00:00Z" || m["version"] == `W/"99"` ||
		m["location"] != e.srv.URL+"/scim/v2/Users/"+id {
		t.Errorf("meta = %v: client meta must be ignored", m)
	}
	if r.Header.Get("Location") != m["location"] {
		t.Errorf("Location header %q, meta.location %v", r.Header.Get("Location"), m["location"])
	}
	if !slices.Equal(strs(u["schemas"]), []string{userURN, entURN}) {
		t.Errorf("schemas = %v", u["schemas"])
	}
	if _, ok := u["roles"]; ok {
		t.Errorf("roles [] stored as %v", u["roles"])
	}

	r = e.post("/Groups", map[string]any{
		"schemas":     []string{groupURN, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"},
		"externalId":  "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
		"displayName": "Data Scientists",
		"meta":        map[string]any{"resourceType": "Group"},
	}, hdr{"Content-Type", entraCT}).want(t, http.StatusCreated)
	g := r.JSON
	gid := str(g["id"])
	if g["displayName"] != "Data Scientists" || g["externalId"] != "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159" ||
		gid == "" || gid == g["externalId"] || path(g, "meta", "resourceType") != "Group" {
		t.Errorf("created group = %v", g)
	}
	if _, ok := g["members"]; ok {
		t.Errorf("new group has members %v", g["members"])
	}
	if ids := listIDs(t, e.get("/Groups"+query("filter", `externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"`))); !slices.Equal(ids, []string{gid}) {
		t.Errorf("group by externalId: %v", ids)
	}
	if ids := listIDs(t, e.get("/Users"+query("filter", `externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`))); !slices.Equal(ids, []string{id}) {
		t.Errorf("user by externalId: %v", ids)
	}
	// Group names are unique, so that Entra can match groups by name.
	e.post("/Groups", map[string]any{"schemas": []string{groupURN}, "displayName": "data scientists"}).
		wantError(t, http.StatusConflict, "uniqueness")
	other := e.createGroup("Analysts")
	e.patch("/Groups/"+other, ops("replace", "displayName", "DATA SCIENTISTS")).wantError(t, http.StatusConflict, "uniqueness")
	e.put("/Groups/"+other, map[string]any{"displayName": "Data scientists"}).wantError(t, http.StatusConflict, "uniqueness")
	// Projections list only the extensions they return.
	if r := e.get("/Users/" + id + "?attributes=userName"); !slices.Equal(strs(r.JSON["schemas"]), []string{userURN}) {
		t.Errorf("attributes=userName: schemas %v", r.JSON["schemas"])
	}
}

func TestQuirkA10ContentTypes(t *testing.T) {
	e := newEnv(t)
	n := 0
	body := func() map[string]any {
		n++
		return map[string]any{"schemas": []string{userURN}, "userName": "a10-" + string(rune('a'+n))}
	}
	for _, tc := range []struct {
		name        string
		method      string
		contentType string
		accept      string
		want        int
	}{
		{"GET no content type", "GET", "", "", http.StatusOK},
		{"GET other accept", "GET", "", "application/json", http.StatusOK},
		{"GET html accept", "GET", "", "text/html", http.StatusOK},
		{"GET scim+json charset (Okta)", "GET", "application/scim+json; charset=utf-8", "application/scim+json", http.StatusOK},
		{"POST scim+json", "POST", "application/scim+json", "", http.StatusCreated},
		{"POST scim+json charset", "POST", entraCT, "", http.StatusCreated},
		{"POST json (Okta create)", "POST", "application/json", "application/json", http.StatusCreated},
		{"POST json charset upper", "POST", "application/json; charset=UTF-8", "", http.StatusCreated},
		{"POST no content type", "POST", "", "", http.StatusCreated},
		{"POST text", "POST", "text/plain", "", http.StatusUnsupportedMediaType},
		{"POST xml", "POST", "application/xml", "", http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b any
			if tc.method == "POST" {
				b = body()
			}
			r := e.do(tc.method, "/Users", b, hdr{"Content-Type", tc.contentType}, hdr{"Accept", tc.accept})
			r.want(t, tc.want)
			if ct := r.Header.Get("Content-Type"); ct != "application/scim+json" {
				t.Errorf("response Content-Type %q", ct)
			}
		})
	}
	id := e.createUser("a10-patch")
	e.patch("/Users/"+id, ops("replace", "title", "x"), hdr{"Content-Type", "application/json"}).want(t, http.StatusOK)
	e.put("/Users/"+id, map[string]any{"userName": "a10-patch"}, hdr{"Content-Type", "application/json; charset=utf-8"}).
		want(t, http.StatusOK)
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}
