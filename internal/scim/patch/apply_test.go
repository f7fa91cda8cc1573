package patch

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// applyCase is a request that must succeed with the document want.
type applyCase struct {
	name string
	rt   *schema.ResourceType
	doc  map[string]any
	ops  []string
	want map[string]any
}

// TestRFCExamples follows the examples of RFC 7644 §3.5.2.
func TestRFCExamples(t *testing.T) {
	for _, tt := range rfcCases() {
		t.Run(tt.name, func(t *testing.T) {
			checkDoc(t, mustRun(t, tt.rt, tt.doc, body(tt.ops...), Options{}), tt.want)
		})
	}
}

// rfcCases are also fuzz seeds.
func rfcCases() []applyCase {
	work := map[string]any{"type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood"}
	home := map[string]any{"type": "home", "locality": "Anytown"}
	user := with(baseUser(), "addresses", []any{work, home})
	return []applyCase{
		{
			name: "add a member (read-only display dropped)",
			rt:   groupType, doc: map[string]any{"displayName": "G"},
			ops: []string{`{"op":"add","path":"members","value":[{"display":"Babs Jensen",
				"$ref":"https://example.com/v2/Users/2819c223","value":"2819c223"}]}`},
			want: map[string]any{"displayName": "G", "members": []any{
				map[string]any{"value": "2819c223", "$ref": "https://example.com/v2/Users/2819c223"}}},
		},
		{
			name: "path-less add",
			rt:   userType, doc: baseUser(),
			ops: []string{`{"op":"add","value":{"emails":[{"value":"babs@jensen.org","type":"home"}],"nickname":"Babs"}}`},
			want: with(baseUser(), "nickName", "Babs", "emails", append(baseUser()["emails"].([]any),
				map[string]any{"value": "babs@jensen.org", "type": "home"})),
		},
		{
			name: "remove all members",
			rt:   groupType, doc: baseGroup(),
			ops:  []string{`{"op":"remove","path":"members"}`},
			want: map[string]any{"displayName": "Data Scientists"},
		},
		{
			name: "remove one member",
			rt:   groupType, doc: baseGroup(),
			ops:  []string{`{"op":"remove","path":"members[value eq \"u-1\"]"}`},
			want: with(baseGroup(), "members", []any{map[string]any{"value": "u-123"}, map[string]any{"value": "u-2"}}),
		},
		{
			name: "remove by a complex filter",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"remove","path":"emails[type eq \"work\" and value ew \"corp.example\"]"}`},
			want: with(baseUser(), "emails", []any{map[string]any{"value": "alice@home.example", "type": "home"}}),
		},
		{
			name: "remove all members then add some",
			rt:   groupType, doc: baseGroup(),
			ops: []string{`{"op":"remove","path":"members"}`,
				`{"op":"add","path":"members","value":[{"value":"u-7"},{"value":"u-8"}]}`},
			want: with(baseGroup(), "members", []any{map[string]any{"value": "u-7"}, map[string]any{"value": "u-8"}}),
		},
		{
			name: "replace all members",
			rt:   groupType, doc: baseGroup(),
			ops:  []string{`{"op":"replace","path":"members","value":[{"value":"u-7"}]}`},
			want: with(baseGroup(), "members", []any{map[string]any{"value": "u-7"}}),
		},
		{
			name: "replace a filtered element",
			rt:   userType, doc: user,
			ops:  []string{`{"op":"replace","path":"addresses[type eq \"work\"]","value":{"type":"work","streetAddress":"1 Main St","primary":true}}`},
			want: with(user, "addresses", []any{map[string]any{"type": "work", "streetAddress": "1 Main St", "primary": true}, home}),
		},
		{
			name: "replace a sub-attribute of a filtered element",
			rt:   userType, doc: user,
			ops:  []string{`{"op":"replace","path":"addresses[type eq \"work\"].streetAddress","value":"1 Main St"}`},
			want: with(user, "addresses", []any{map[string]any{"type": "work", "streetAddress": "1 Main St", "locality": "Hollywood"}, home}),
		},
		{
			name: "path-less replace of a multi-valued attribute",
			rt:   userType, doc: baseUser(),
			ops: []string{`{"op":"replace","value":{"emails":[{"value":"bjensen@example.com","type":"work","primary":true}],"nickname":"Babs"}}`},
			want: with(baseUser(), "nickName", "Babs", "emails", []any{
				map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true}}),
		},
		{
			name: "add to a complex attribute merges",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"add","path":"name","value":{"givenName":"Babs","middleName":"J"}}`},
			want: with(baseUser(), "name", map[string]any{"givenName": "Babs", "familyName": "Lee", "formatted": "Alice Lee", "middleName": "J"}),
		},
		{
			name: "replace of a complex attribute keeps unnamed sub-attributes",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"replace","path":"name","value":{"givenName":"Babs","formatted":null}}`},
			want: with(baseUser(), "name", map[string]any{"givenName": "Babs", "familyName": "Lee"}),
		},
		{
			name: "replace of a missing attribute adds it",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"replace","path":"title","value":"CTO"}`},
			want: with(baseUser(), "title", "CTO"),
		},
		{
			name: "add a single element without array brackets",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"add","path":"phoneNumbers","value":{"value":"555","type":"work"}}`},
			want: with(baseUser(), "phoneNumbers", []any{map[string]any{"value": "555", "type": "work"}}),
		},
		{
			name: "remove a sub-attribute from filtered elements",
			rt:   userType, doc: baseUser(),
			ops: []string{`{"op":"remove","path":"emails[type eq \"work\"].primary"}`},
			want: with(baseUser(), "emails", []any{map[string]any{"value": "alice@corp.example", "type": "work"},
				map[string]any{"value": "alice@home.example", "type": "home"}}),
		},
		{
			name: "remove a sub-attribute of a complex attribute",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"remove","path":"name.formatted"}`},
			want: with(baseUser(), "name", map[string]any{"givenName": "Alice", "familyName": "Lee"}),
		},
		{
			name: "remove a filter matching nothing",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"remove","path":"emails[type eq \"other\"]"}`},
			want: baseUser(),
		},
		{
			name: "remove an absent attribute",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"remove","path":"nickName"}`},
			want: baseUser(),
		},
		{
			name: "remove the whole extension",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}`},
			want: with(baseUser(), ext, nil),
		},
		{
			name: "replace with an empty string unassigns",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"replace","path":"displayName","value":""}`},
			want: with(baseUser(), "displayName", nil),
		},
		{
			name: "add of a duplicate element changes nothing",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"add","path":"emails","value":[{"value":"ALICE@home.example","type":"home"}]}`},
			want: baseUser(),
		},
		{
			name: "sub-attribute of every element",
			rt:   userType, doc: baseUser(),
			ops: []string{`{"op":"replace","path":"emails.display","value":"x"}`},
			want: with(baseUser(), "emails", []any{
				map[string]any{"value": "alice@corp.example", "type": "work", "primary": true, "display": "x"},
				map[string]any{"value": "alice@home.example", "type": "home", "display": "x"}}),
		},
		{
			name: "write-only password is accepted and dropped",
			rt:   userType, doc: baseUser(),
			ops: []string{`{"op":"replace","path":"password","value":"1mz050nq"}`,
				`{"op":"add","value":{"password":"x"}}`, `{"op":"remove","path":"password"}`},
			want: baseUser(),
		},
	}
}

// errorCase is a request that must fail with scimType typ.
type errorCase struct {
	name string
	rt   *schema.ResourceType
	doc  map[string]any
	ops  []string
	typ  schema.ErrorType
}

func runErrorCases(t *testing.T, tests []errorCase) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, doc := tt.rt, tt.doc
			if rt == nil {
				rt, doc = userType, baseUser()
			}
			_, err := run(t, rt, doc, body(tt.ops...), Options{ID: "u-1"})
			se := wantErr(t, err, tt.typ)
			if !strings.HasPrefix(se.Field, "Operations[") {
				t.Errorf("Field = %q, want the operation index", se.Field)
			}
		})
	}
}

func TestMutability(t *testing.T) {
	group := with(baseGroup(), "members", []any{map[string]any{"value": "u-1", "type": "User"}, map[string]any{"value": "u-2"}})
	runErrorCases(t, mutabilityCases())

	// Immutable values may be set while absent, and set to what they are.
	got := mustRun(t, groupType, group, body(
		`{"op":"add","path":"members[value eq \"u-2\"].type","value":"User"}`,
		`{"op":"replace","path":"members[value eq \"u-1\"].type","value":"User"}`), Options{})
	checkDoc(t, got, with(group, "members", []any{map[string]any{"value": "u-1", "type": "User"}, map[string]any{"value": "u-2", "type": "User"}}))

	// The resource's own id in a path-less value is ignored (Okta B5), and
	// read-only sub-attributes inside a value object are dropped.
	got = mustRun(t, userType, baseUser(), body(`{"op":"replace","value":{"id":"u-1","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":{"value":"u-boss","displayName":"Boss"}}}`), Options{ID: "u-1"})
	checkDoc(t, got, with(baseUser(), ext, map[string]any{"department": "Sales", "manager": map[string]any{"value": "u-boss"}}))
}

func TestNoTarget(t *testing.T) {
	runErrorCases(t, noTargetCases())
}

func TestInvalidPath(t *testing.T) {
	runErrorCases(t, invalidPathCases())
}

func TestInvalidValue(t *testing.T) {
	runErrorCases(t, invalidValueCases())
}

func TestAllOrNothing(t *testing.T) {
	doc := baseUser()
	orig := deepCopy(doc)
	ops := []Operation{
		{Op: "replace", Path: "displayName", Value: "Changed"},
		{Op: "add", Path: "emails", Value: []any{map[string]any{"value": "n@x.example"}}},
		{Op: "replace", Path: "active", Value: "not a boolean"},
	}
	got, err := Apply(userType, doc, ops, Options{})
	se := wantErr(t, err, schema.InvalidValue)
	if se.Field != "Operations[2]" || !strings.Contains(se.Reason, "active") {
		t.Errorf("error %q does not name Operations[2] and active", se)
	}
	if got != nil {
		t.Errorf("got a document with the error: %v", got)
	}
	if !reflect.DeepEqual(doc, orig) {
		t.Errorf("input changed:\n got  %s\n want %s", jsonOf(doc), jsonOf(orig))
	}

	// A failure found only after the last operation undoes them all too.
	ops = []Operation{{Op: "replace", Path: "displayName", Value: "Changed"}, {Op: "remove", Path: "userName"}}
	if _, err := Apply(userType, doc, ops, Options{}); err == nil || !reflect.DeepEqual(doc, orig) {
		t.Errorf("err = %v, input unchanged = %v", err, reflect.DeepEqual(doc, orig))
	}

	// On success the input is still untouched, and the result shares
	// nothing with the operations' values.
	val := []any{map[string]any{"value": "n@x.example", "type": "other"}}
	got, err = Apply(userType, doc, []Operation{{Op: "add", Path: "emails", Value: val}}, Options{})
	if err != nil || !reflect.DeepEqual(doc, orig) {
		t.Fatalf("err = %v, input unchanged = %v", err, reflect.DeepEqual(doc, orig))
	}
	val[0].(map[string]any)["value"] = "mutated"
	if emails := got["emails"].([]any); emails[len(emails)-1].(map[string]any)["value"] != "n@x.example" {
		t.Error("the result aliases the operation value")
	}
}

func TestErrorNamesOperationAndPath(t *testing.T) {
	_, err := run(t, userType, baseUser(), body(
		`{"op":"add","path":"nickName","value":"B"}`,
		`{"op":"replace","path":"emails[type eq \"work\"].bogus","value":"x"}`), Options{})
	se := wantErr(t, err, schema.InvalidPath)
	if se.Field != "Operations[1]" || !strings.Contains(se.Reason, `emails[type eq "work"].bogus`) {
		t.Errorf("error = %q, want Operations[1] and the path", se)
	}
	_, err = run(t, userType, baseUser(), body(`{"op":"replace","value":{"name.givenName":7}}`), Options{})
	se = wantErr(t, err, schema.InvalidValue)
	if se.Field != "Operations[0]" || !strings.Contains(se.Reason, "name.givenName") {
		t.Errorf("error = %q, want Operations[0] and the key", se)
	}
	if _, err := Apply(userType, baseUser(), []Operation{{Op: "move", Path: "x"}}, Options{}); err == nil {
		t.Error("Apply accepted op move")
	} else {
		wantErr(t, err, schema.InvalidSyntax)
	}
}

func TestPrimary(t *testing.T) {
	work := func(p any) map[string]any {
		m := map[string]any{"value": "alice@corp.example", "type": "work"}
		if p != nil {
			m["primary"] = p
		}
		return m
	}
	home := func(p any) map[string]any {
		m := map[string]any{"value": "alice@home.example", "type": "home"}
		if p != nil {
			m["primary"] = p
		}
		return m
	}
	tests := []struct {
		name string
		op   string
		want []any
	}{
		{"added primary wins", `{"op":"add","path":"emails","value":[{"value":"n@x.example","primary":true}]}`,
			[]any{work(false), home(nil), map[string]any{"value": "n@x.example", "primary": true}}},
		{"sub-attribute primary wins", `{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}`,
			[]any{work(false), home(true)}},
		{"replaced element primary wins", `{"op":"replace","path":"emails[type eq \"home\"]","value":{"value":"alice@home.example","type":"home","primary":true}}`,
			[]any{work(false), home(true)}},
		{"first of several new primaries", `{"op":"replace","path":"emails","value":[{"value":"a@x","primary":true},{"value":"b@x","primary":true}]}`,
			[]any{map[string]any{"value": "a@x", "primary": true}, map[string]any{"value": "b@x", "primary": false}}},
		{"re-adding the primary keeps it", `{"op":"add","path":"emails","value":[{"value":"alice@corp.example","type":"work","primary":true}]}`,
			[]any{work(true), home(nil)}},
		{"created element primary wins", `{"op":"add","path":"emails[type eq \"other\" and primary eq true].value","value":"o@x"}`,
			[]any{work(false), home(nil), map[string]any{"value": "o@x", "type": "other", "primary": true}}},
		{"unsetting primary leaves none", `{"op":"replace","path":"emails[type eq \"work\"].primary","value":false}`,
			[]any{work(false), home(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRun(t, userType, baseUser(), body(tt.op), Options{})
			checkDoc(t, got, with(baseUser(), "emails", tt.want))
		})
	}

	// A stored document with two primaries is repaired by any operation on
	// the attribute: the first keeps it.
	bad := with(baseUser(), "emails", []any{work(true), home(true)})
	got := mustRun(t, userType, bad, body(`{"op":"add","path":"emails","value":[{"value":"n@x"}]}`), Options{})
	checkDoc(t, got, with(baseUser(), "emails", []any{work(true), home(false), map[string]any{"value": "n@x"}}))
}

func TestExternalDelta(t *testing.T) {
	x := &fakeExternal{}
	opts := Options{ID: "g-1", External: map[string]External{"members": x}}
	g := map[string]any{"displayName": "G"}
	got := mustRun(t, groupType, g, body(
		`{"op":"add","path":"members","value":[{"value":"u-1","$ref":null,"display":"One"},{"value":"u-2","type":"User"}]}`,
		`{"op":"add","value":{"members":[{"value":"u-3"}],"displayName":"H"}}`,
		`{"op":"replace","value":{"members":[{"value":"u-4"}]}}`,
		`{"op":"remove","path":"members[value eq \"u-4\"]"}`,
		`{"op":"add","path":"members","value":[]}`,
		`{"op":"replace","path":"members","value":[]}`,
		`{"op":"remove","path":"members"}`), opts)
	checkDoc(t, got, map[string]any{"displayName": "H"})
	want := []call{
		{op: "Add", values: []map[string]any{{"value": "u-1"}, {"value": "u-2", "type": "User"}}},
		{op: "Add", values: members("u-3")},
		{op: "Replace", values: members("u-4")},
		{op: "Remove"},
		{op: "Replace", values: []map[string]any{}},
		{op: "Remove"},
	}
	if len(x.calls) != len(want) {
		t.Fatalf("calls = %+v, want %+v", x.calls, want)
	}
	for i, c := range x.calls {
		if c.op != want[i].op || !reflect.DeepEqual(c.values, want[i].values) || (c.filter != nil) != (i == 3) {
			t.Errorf("call %d = %+v, want %+v", i, c, want[i])
		}
	}
	if !x.calls[3].filter.MatchElement(map[string]any{"value": "u-4"}) {
		t.Error("the remove filter does not match u-4")
	}

	t.Run("rejected shapes", func(t *testing.T) {
		x.calls = nil
		for _, tc := range []struct {
			op  string
			typ schema.ErrorType
		}{
			{`{"op":"add","path":"members","value":[{"value":"u-1","bogus":"x"}]}`, schema.InvalidValue},
			{`{"op":"replace","path":"members[value eq \"u-1\"].value","value":"u-2"}`, schema.NotMutable},
			{`{"op":"replace","path":"members[value eq \"u-1\"]","value":{"value":"u-2"}}`, schema.InvalidPath},
			{`{"op":"remove","path":"members.value"}`, schema.NotMutable},
			{`{"op":"remove","path":"members[value eq \"u-1\"].display"}`, schema.NotMutable},
		} {
			_, err := run(t, groupType, g, body(tc.op), opts)
			wantErr(t, err, tc.typ)
		}
		if len(x.calls) != 0 {
			t.Errorf("rejected operations reached the External: %+v", x.calls)
		}
	})

	t.Run("errors", func(t *testing.T) {
		x := &fakeExternal{err: schema.Errorf(schema.InvalidValue, "members", "no user u-404")}
		_, err := run(t, groupType, g, body(`{"op":"add","path":"members","value":[{"value":"u-404"}]}`),
			Options{External: map[string]External{"members": x}})
		if se := wantErr(t, err, schema.InvalidValue); se.Field != "Operations[0]" {
			t.Errorf("Field = %q", se.Field)
		}
		fault := errors.New("disk on fire")
		x.err = fault
		_, err = run(t, groupType, g, body(`{"op":"remove","path":"members"}`), Options{External: map[string]External{"members": x}})
		if !errors.Is(err, fault) || !strings.Contains(err.Error(), "Operations[0]") {
			t.Errorf("err = %v, want the External's error with the operation index", err)
		}
	})

	t.Run("bad options", func(t *testing.T) {
		for _, bad := range []map[string]External{
			{"displayName": x}, {"Members": x}, {"nope": x}, {"members": nil},
		} {
			if _, err := Apply(groupType, g, nil, Options{External: bad}); err == nil {
				t.Errorf("Apply accepted External %v", bad)
			}
		}
	})
}

func mutabilityCases() []errorCase {
	group := with(baseGroup(), "members", []any{map[string]any{"value": "u-1", "type": "User"}, map[string]any{"value": "u-2"}})
	return []errorCase{
		{name: "id by path", ops: []string{`{"op":"replace","path":"id","value":"u-1"}`}, typ: schema.NotMutable},
		{name: "meta sub-attribute", ops: []string{`{"op":"replace","path":"meta.created","value":"2024-01-01T00:00:00Z"}`}, typ: schema.NotMutable},
		{name: "groups", ops: []string{`{"op":"add","path":"groups","value":[{"value":"g-1"}]}`}, typ: schema.NotMutable},
		{name: "remove groups", ops: []string{`{"op":"remove","path":"groups"}`}, typ: schema.NotMutable},
		{name: "manager displayName", ops: []string{`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"B"}`}, typ: schema.NotMutable},
		{name: "path-less other id", ops: []string{`{"op":"replace","value":{"id":"u-2"}}`}, typ: schema.NotMutable},
		{name: "path-less meta", ops: []string{`{"op":"replace","value":{"meta":{"version":"1"}}}`}, typ: schema.NotMutable},
		{name: "member display", rt: groupType, doc: group, ops: []string{`{"op":"replace","path":"members[value eq \"u-1\"].display","value":"X"}`}, typ: schema.NotMutable},
		{name: "change an immutable sub-attribute", rt: groupType, doc: group, ops: []string{`{"op":"replace","path":"members[value eq \"u-1\"].type","value":"Group"}`}, typ: schema.NotMutable},
		{name: "remove an immutable sub-attribute", rt: groupType, doc: group, ops: []string{`{"op":"remove","path":"members[value eq \"u-1\"].type"}`}, typ: schema.NotMutable},
		{name: "replace an element changing an immutable value", rt: groupType, doc: group, ops: []string{`{"op":"replace","path":"members[value eq \"u-1\"]","value":{"value":"u-9"}}`}, typ: schema.NotMutable},
	}
}

func noTargetCases() []errorCase {
	return []errorCase{
		{name: "remove without path", ops: []string{`{"op":"remove"}`}, typ: schema.NoTarget},
		{name: "replace a filtered element that does not exist", ops: []string{`{"op":"replace","path":"emails[type eq \"other\"]","value":{"value":"o@x.example"}}`}, typ: schema.NoTarget},
		{name: "no match and an or-filter", ops: []string{`{"op":"replace","path":"emails[type eq \"other\" or type eq \"pager\"].value","value":"x"}`}, typ: schema.NoTarget},
		{name: "no match and a non-eq filter", ops: []string{`{"op":"replace","path":"emails[value sw \"zz\"].value","value":"x"}`}, typ: schema.NoTarget},
	}
}

func invalidPathCases() []errorCase {
	return []errorCase{
		{name: "unknown attribute", ops: []string{`{"op":"replace","path":"shoeSize","value":"9"}`}, typ: schema.InvalidPath},
		{name: "unknown sub-attribute", ops: []string{`{"op":"replace","path":"name.bogus","value":"x"}`}, typ: schema.InvalidPath},
		{name: "unknown sub-attribute after a filter", ops: []string{`{"op":"replace","path":"emails[type eq \"work\"].bogus","value":"x"}`}, typ: schema.InvalidPath},
		{name: "filter on a single-valued attribute", ops: []string{`{"op":"replace","path":"name[givenName eq \"x\"].familyName","value":"x"}`}, typ: schema.InvalidPath},
		{name: "unknown extension", ops: []string{`{"op":"replace","path":"urn:example:unknown:2.0:User:x","value":"x"}`}, typ: schema.InvalidPath},
		{name: "malformed", ops: []string{`{"op":"remove","path":"emails[type eq"}`}, typ: schema.InvalidPath},
		{name: "path-less unknown key", ops: []string{`{"op":"replace","value":{"shoeSize":"9"}}`}, typ: schema.InvalidPath},
		{name: "unknown key in an extension object", ops: []string{`{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"bogus":"x"}}}`}, typ: schema.InvalidPath},
	}
}

func invalidValueCases() []errorCase {
	return []errorCase{
		{name: "not a boolean", ops: []string{`{"op":"replace","path":"active","value":"maybe"}`}, typ: schema.InvalidValue},
		{name: "number for a string", ops: []string{`{"op":"replace","path":"nickName","value":5}`}, typ: schema.InvalidValue},
		{name: "string for a complex attribute", ops: []string{`{"op":"replace","path":"name","value":"Bob"}`}, typ: schema.InvalidValue},
		{name: "string element of a complex multi-valued attribute", ops: []string{`{"op":"add","path":"emails","value":["a@b"]}`}, typ: schema.InvalidValue},
		{name: "unknown sub-attribute in an element", ops: []string{`{"op":"add","path":"emails","value":[{"value":"a@b","bogus":1}]}`}, typ: schema.InvalidValue},
		{name: "add without value", ops: []string{`{"op":"add","path":"nickName"}`}, typ: schema.InvalidValue},
		{name: "path-less value not an object", ops: []string{`{"op":"replace","value":"x"}`}, typ: schema.InvalidValue},
		{name: "extension not an object", ops: []string{`{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"x"}}`}, typ: schema.InvalidValue},
		{name: "remove a required attribute", ops: []string{`{"op":"remove","path":"userName"}`}, typ: schema.InvalidValue},
		{name: "unassign a required attribute", ops: []string{`{"op":"replace","value":{"userName":""}}`}, typ: schema.InvalidValue},
	}
}
