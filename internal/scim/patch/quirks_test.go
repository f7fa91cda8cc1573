package patch

import (
	"reflect"
	"testing"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// One test per PATCH shape of shared/docs/reference/scim-client-quirks.md,
// named after the quirk.

func TestQuirkA1CapitalisedOps(t *testing.T) {
	b := body(
		`{"op":"Replace","path":"name.familyName","value":"Lee-Smith"}`,
		`{"op":"Add","path":"nickName","value":"Babs"}`,
		`{"op":"REMOVE","path":"displayName"}`,
	)
	ops, err := ParseRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"replace", "add", "remove"} {
		if ops[i].Op != want {
			t.Errorf("ops[%d].Op = %q, want %q", i, ops[i].Op, want)
		}
	}
	got := mustRun(t, userType, baseUser(), b, Options{})
	want := with(baseUser(), "nickName", "Babs", "displayName", nil,
		"name", map[string]any{"givenName": "Alice", "familyName": "Lee-Smith", "formatted": "Alice Lee"})
	checkDoc(t, got, want)

	// Apply compares case-insensitively too, for callers that build ops.
	if _, err := Apply(userType, baseUser(), []Operation{{Op: "Replace", Path: "nickName", Value: "B"}}, Options{}); err != nil {
		t.Errorf("Apply with op Replace: %v", err)
	}
}

func TestQuirkA2BooleanStrings(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{`"False"`, false},
		{`"True"`, true},
		{`"false"`, false},
		{`"TRUE"`, true},
		{`false`, false}, // aadOptscim062020 sends real booleans
		{`true`, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			start := with(baseUser(), "active", !tt.want)
			got := mustRun(t, userType, start, body(`{"op":"Replace","path":"active","value":`+tt.value+`}`), Options{})
			if got["active"] != tt.want {
				t.Errorf("active = %#v, want %v", got["active"], tt.want)
			}
		})
	}
	_, err := run(t, userType, baseUser(), body(`{"op":"Replace","path":"active","value":"yes"}`), Options{})
	wantErr(t, err, schema.InvalidValue)
}

func TestQuirkA3FilteredValuePaths(t *testing.T) {
	home := map[string]any{"value": "alice@home.example", "type": "home"}
	onlyHome := with(baseUser(), "emails", []any{home})
	tests := []struct {
		name string
		doc  map[string]any
		op   string
		want map[string]any
	}{
		{
			name: "replace existing work email",
			doc:  baseUser(),
			op:   `{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@corp.example"}`,
			want: with(baseUser(), "emails", []any{
				map[string]any{"value": "new@corp.example", "type": "work", "primary": true}, home}),
		},
		{
			name: "replace creates the missing work email and keeps home",
			doc:  onlyHome,
			op:   `{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@corp.example"}`,
			want: with(baseUser(), "emails", []any{home, map[string]any{"value": "new@corp.example", "type": "work"}}),
		},
		{
			name: "add creates a work address",
			doc:  baseUser(),
			op:   `{"op":"Add","path":"addresses[type eq \"work\"].formatted","value":"18/2111"}`,
			want: with(baseUser(), "addresses", []any{map[string]any{"type": "work", "formatted": "18/2111"}}),
		},
		{
			name: "replace creates a mobile phone",
			doc:  baseUser(),
			op:   `{"op":"Replace","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555 0100"}`,
			want: with(baseUser(), "phoneNumbers", []any{map[string]any{"type": "mobile", "value": "+1 555 0100"}}),
		},
		{
			name: "and-ed eq values all go into the new element",
			doc:  onlyHome,
			op:   `{"op":"Add","path":"emails[type eq \"work\" and primary eq true].value","value":"w@corp.example"}`,
			want: with(baseUser(), "emails", []any{home,
				map[string]any{"value": "w@corp.example", "type": "work", "primary": true}}),
		},
		{
			name: "case-insensitive attribute names",
			doc:  baseUser(),
			op:   `{"op":"replace","path":"Emails[Type eq \"work\"].Value","value":"x@corp.example"}`,
			want: with(baseUser(), "emails", []any{
				map[string]any{"value": "x@corp.example", "type": "work", "primary": true}, home}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDoc(t, mustRun(t, userType, tt.doc, body(tt.op), Options{}), tt.want)
		})
	}
}

func TestQuirkA4PathlessDottedAndURNKeys(t *testing.T) {
	b := body(`{"op":"replace","value":{
		"displayName":"Bjorn F",
		"name.givenName":"Bjorn",
		"name.familyName":"F",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"4711"}}`)
	got := mustRun(t, userType, baseUser(), b, Options{})
	want := with(baseUser(), "displayName", "Bjorn F",
		"name", map[string]any{"givenName": "Bjorn", "familyName": "F", "formatted": "Alice Lee"},
		ext, map[string]any{"department": "Sales", "manager": map[string]any{"value": "u-old"}, "employeeNumber": "4711"})
	checkDoc(t, got, want)
	if _, literal := got["name.givenName"]; literal {
		t.Error(`"name.givenName" was stored as a literal key`)
	}

	// The same with add, and with the extension as a nested object.
	b = body(`{"op":"add","value":{"name.middleName":"M",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"costCenter":"CC1","employeeNumber":"1"}}}`)
	got = mustRun(t, userType, baseUser(), b, Options{})
	want = with(baseUser(),
		"name", map[string]any{"givenName": "Alice", "familyName": "Lee", "formatted": "Alice Lee", "middleName": "M"},
		ext, map[string]any{"department": "Sales", "manager": map[string]any{"value": "u-old"}, "costCenter": "CC1", "employeeNumber": "1"})
	checkDoc(t, got, want)
}

func TestQuirkA5EnterpriseURNPaths(t *testing.T) {
	const p = `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:`
	tests := []struct {
		name string
		op   string
		want map[string]any // the enterprise extension object; nil: absent
	}{
		{"add department", `{"op":"Add","path":` + p + `department","value":"Retail"}`,
			map[string]any{"department": "Retail", "manager": map[string]any{"value": "u-old"}}},
		{"replace employeeNumber", `{"op":"Replace","path":` + p + `employeeNumber","value":"4711"}`,
			map[string]any{"department": "Sales", "employeeNumber": "4711", "manager": map[string]any{"value": "u-old"}}},
		{"manager as a bare string", `{"op":"Add","path":` + p + `manager","value":"u-boss"}`,
			map[string]any{"department": "Sales", "manager": map[string]any{"value": "u-boss"}}},
		{"manager as an object", `{"op":"Replace","path":` + p + `manager","value":{"value":"u-boss"}}`,
			map[string]any{"department": "Sales", "manager": map[string]any{"value": "u-boss"}}},
		{"manager sub-attribute", `{"op":"Replace","path":` + p + `manager.value","value":"u-boss"}`,
			map[string]any{"department": "Sales", "manager": map[string]any{"value": "u-boss"}}},
		{"remove manager", `{"op":"Remove","path":` + p + `manager"}`,
			map[string]any{"department": "Sales"}},
		{"pre-2018 dot before the attribute", `{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.department","value":"Retail"}`,
			map[string]any{"department": "Retail", "manager": map[string]any{"value": "u-old"}}},
		{"path-less bare manager", `{"op":"replace","value":{` + p + `manager":"u-boss"}}`,
			map[string]any{"department": "Sales", "manager": map[string]any{"value": "u-boss"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRun(t, userType, baseUser(), body(tt.op), Options{})
			checkDoc(t, got, with(baseUser(), ext, tt.want))
		})
	}

	// Entra re-sends the removal; the second one is not an error, and the
	// extension object goes away with its last attribute.
	noManager := with(baseUser(), ext, map[string]any{"manager": map[string]any{"value": "u-old"}})
	got := mustRun(t, userType, noManager, body(
		`{"op":"Remove","path":`+p+`manager"}`,
		`{"op":"Remove","path":`+p+`manager"}`), Options{})
	checkDoc(t, got, with(baseUser(), ext, nil))
}

func TestQuirkA6RemoveMembersByValue(t *testing.T) {
	remove := body(`{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u-123"}]}`)
	want := with(baseGroup(), "members", []any{
		map[string]any{"value": "u-1", "type": "User"}, map[string]any{"value": "u-2"}})

	t.Run("in the document", func(t *testing.T) {
		checkDoc(t, mustRun(t, groupType, baseGroup(), remove, Options{}), want)
		rfc := body(`{"op":"remove","path":"members[value eq \"u-123\"]"}`)
		checkDoc(t, mustRun(t, groupType, baseGroup(), rfc, Options{}), want)
		add := body(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"u-9"}]}`)
		got := mustRun(t, groupType, baseGroup(), add, Options{})
		checkDoc(t, got, with(baseGroup(), "members", append(baseGroup()["members"].([]any), map[string]any{"value": "u-9"})))
	})

	t.Run("external", func(t *testing.T) {
		x := &fakeExternal{}
		opts := Options{External: map[string]External{"members": x}}
		group := with(baseGroup(), "members", nil)
		got := mustRun(t, groupType, group, remove, opts)
		checkDoc(t, got, group)
		if len(x.calls) != 1 || x.calls[0].op != "Remove" || x.calls[0].filter != nil ||
			!reflect.DeepEqual(x.calls[0].values, members("u-123")) {
			t.Fatalf("calls = %+v, want Remove(nil, [u-123])", x.calls)
		}
	})
}

func TestQuirkA8SoftDeleteAndRestore(t *testing.T) {
	off := mustRun(t, userType, baseUser(), body(`{"op":"Replace","path":"active","value":"False"}`), Options{})
	checkDoc(t, off, with(baseUser(), "active", false))
	on := mustRun(t, userType, off, body(`{"op":"Replace","path":"active","value":"True"}`), Options{})
	checkDoc(t, on, baseUser())
}

func TestQuirkB4PathlessActiveReplace(t *testing.T) {
	off := mustRun(t, userType, baseUser(), body(`{"op":"replace","value":{"active":false}}`), Options{})
	checkDoc(t, off, with(baseUser(), "active", false))
	on := mustRun(t, userType, off, body(`{"op":"replace","value":{"active":true}}`), Options{})
	checkDoc(t, on, baseUser())
}

func TestQuirkB5GroupPush(t *testing.T) {
	x := &fakeExternal{}
	opts := Options{ID: "abf4", External: map[string]External{"members": x}}
	group := map[string]any{"displayName": "Old name"}

	rename := body(`{"op":"replace","value":{"id":"abf4","displayName":"Test SCIMv2"}}`)
	got := mustRun(t, groupType, group, rename, opts)
	checkDoc(t, got, map[string]any{"displayName": "Test SCIMv2"})
	if len(x.calls) != 0 {
		t.Fatalf("the rename touched membership: %+v", x.calls)
	}

	_, err := run(t, groupType, group, body(`{"op":"replace","value":{"id":"other","displayName":"X"}}`), opts)
	wantErr(t, err, schema.NotMutable)

	membership := body(
		`{"op":"remove","path":"members[value eq \"89bb1940\"]"}`,
		`{"op":"add","path":"members","value":[{"value":"23a35c27","display":"test.user@okta.local"}]}`,
		`{"op":"replace","path":"members","value":[{"value":"m-1"},{"value":"m-2"}]}`)
	x.calls = nil
	checkDoc(t, mustRun(t, groupType, group, membership, opts), group)
	if len(x.calls) != 3 {
		t.Fatalf("calls = %+v, want Remove, Add, Replace", x.calls)
	}
	rm, add, repl := x.calls[0], x.calls[1], x.calls[2]
	if rm.op != "Remove" || rm.filter == nil || rm.values != nil ||
		!rm.filter.MatchElement(map[string]any{"value": "89bb1940"}) || rm.filter.MatchElement(map[string]any{"value": "other"}) {
		t.Errorf("first call = %+v, want Remove(members[value eq 89bb1940], nil)", rm)
	}
	if add.op != "Add" || !reflect.DeepEqual(add.values, members("23a35c27")) {
		t.Errorf("second call = %+v, want Add([23a35c27]) with display dropped", add)
	}
	if repl.op != "Replace" || !reflect.DeepEqual(repl.values, members("m-1", "m-2")) {
		t.Errorf("third call = %+v, want Replace([m-1 m-2])", repl)
	}

	// Without an External the members live in the document, and the
	// path-less rename still leaves them alone.
	got = mustRun(t, groupType, baseGroup(), rename, Options{ID: "abf4"})
	checkDoc(t, got, with(baseGroup(), "displayName", "Test SCIMv2"))
}

func TestQuirkC1CaseInsensitiveNames(t *testing.T) {
	b := body(
		`{"op":"rEpLaCe","path":"name.FamilyName","value":"F"}`,
		`{"op":"replace","path":"DisplayName","value":"D"}`,
		`{"op":"replace","path":"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:Department","value":"R"}`,
		`{"op":"replace","value":{"NickName":"N"}}`)
	got := mustRun(t, userType, baseUser(), b, Options{})
	want := with(baseUser(), "displayName", "D", "nickName", "N",
		"name", map[string]any{"givenName": "Alice", "familyName": "F", "formatted": "Alice Lee"},
		ext, map[string]any{"department": "R", "manager": map[string]any{"value": "u-old"}})
	checkDoc(t, got, want)
}

func TestQuirkC2BooleanStringsEverywhere(t *testing.T) {
	b := body(
		`{"op":"add","path":"emails","value":[{"value":"b@x.example","type":"other","primary":"True"}]}`,
		`{"op":"replace","value":{"active":"false"}}`,
		`{"op":"replace","path":"emails[type eq \"home\"].primary","value":"FALSE"}`)
	got := mustRun(t, userType, baseUser(), b, Options{})
	want := with(baseUser(), "active", false, "emails", []any{
		map[string]any{"value": "alice@corp.example", "type": "work", "primary": false},
		map[string]any{"value": "alice@home.example", "type": "home", "primary": false},
		map[string]any{"value": "b@x.example", "type": "other", "primary": true},
	})
	checkDoc(t, got, want)
}

func TestQuirkC3PathShapes(t *testing.T) {
	tests := []struct {
		name, op string
		check    func(map[string]any) bool
	}{
		{"plain", `{"op":"replace","path":"title","value":"T"}`,
			func(d map[string]any) bool { return d["title"] == "T" }},
		{"dotted", `{"op":"replace","path":"name.honorificPrefix","value":"Dr"}`,
			func(d map[string]any) bool { return d["name"].(map[string]any)["honorificPrefix"] == "Dr" }},
		{"URN-prefixed extension", `{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division","value":"V"}`,
			func(d map[string]any) bool { return d[ext].(map[string]any)["division"] == "V" }},
		{"URN-prefixed core", `{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:nickName","value":"N"}`,
			func(d map[string]any) bool { return d["nickName"] == "N" }},
		{"attr[filter].sub", `{"op":"replace","path":"emails[type eq \"home\"].display","value":"Home"}`,
			func(d map[string]any) bool { return d["emails"].([]any)[1].(map[string]any)["display"] == "Home" }},
		{"path-less dotted and URN keys", `{"op":"add","value":{"name.middleName":"M","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division":"V"}}`,
			func(d map[string]any) bool {
				return d["name"].(map[string]any)["middleName"] == "M" && d[ext].(map[string]any)["division"] == "V"
			}},
		{"bare extension URN as path", `{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"division":"V"}}`,
			func(d map[string]any) bool { return d[ext].(map[string]any)["division"] == "V" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRun(t, userType, baseUser(), body(tt.op), Options{})
			if !tt.check(got) {
				t.Errorf("unexpected result %s", jsonOf(got))
			}
		})
	}
	t.Run("members[value eq id]", func(t *testing.T) {
		got := mustRun(t, groupType, baseGroup(), body(`{"op":"remove","path":"members[value eq \"u-2\"]"}`), Options{})
		checkDoc(t, got, with(baseGroup(), "members", baseGroup()["members"].([]any)[:2]))
	})
}

func TestQuirkC4MemberRemovalNeverWipes(t *testing.T) {
	x := &fakeExternal{}
	opts := Options{External: map[string]External{"members": x}}
	g := map[string]any{"displayName": "G"}

	// A value that names no member must not become "remove all".
	for _, v := range []string{`[{"$ref":null}]`, `[]`, `[null]`, `{}`} {
		_, err := run(t, groupType, g, body(`{"op":"remove","path":"members","value":`+v+`}`), opts)
		wantErr(t, err, schema.InvalidValue)
		_, err = run(t, groupType, baseGroup(), body(`{"op":"remove","path":"members","value":`+v+`}`), Options{})
		wantErr(t, err, schema.InvalidValue)
	}
	if len(x.calls) != 0 {
		t.Fatalf("calls = %+v, want none", x.calls)
	}

	mustRun(t, groupType, g, body(`{"op":"remove","path":"members","value":[{"value":"u-1"},{"value":"u-2"}]}`), opts)
	mustRun(t, groupType, g, body(`{"op":"remove","path":"members"}`), opts)
	if len(x.calls) != 2 || !reflect.DeepEqual(x.calls[0].values, members("u-1", "u-2")) ||
		x.calls[1].filter != nil || x.calls[1].values != nil {
		t.Fatalf("calls = %+v, want Remove(nil, [u-1 u-2]) then Remove(nil, nil)", x.calls)
	}

	// The bare path is the one way to remove every member.
	got := mustRun(t, groupType, baseGroup(), body(`{"op":"remove","path":"members"}`), Options{})
	checkDoc(t, got, with(baseGroup(), "members", nil))
}

func TestQuirkC6DeactivationIsSoft(t *testing.T) {
	got := mustRun(t, userType, baseUser(), body(`{"op":"replace","value":{"active":"False"}}`), Options{})
	if v, ok := got["active"]; !ok || v != false {
		t.Fatalf("active = %#v (present %v), want an explicit false", v, ok)
	}
	// Everything else stays readable, and the result is a valid resource.
	checkDoc(t, got, with(baseUser(), "active", false))
	if err := userType.CheckRequired(got); err != nil {
		t.Fatal(err)
	}
	norm, err := userType.Normalize(got)
	if err != nil || !reflect.DeepEqual(norm, got) {
		t.Fatalf("Normalize(result) = %v, %v; want the result itself", norm, err)
	}
}
