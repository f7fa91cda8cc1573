package patch

import (
	"testing"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// Edge cases of the rules in apply.go, write.go and multi.go that the RFC
// and quirk tables do not reach.
func TestEdgeCases(t *testing.T) {
	work := map[string]any{"value": "alice@corp.example", "type": "work", "primary": true}
	home := map[string]any{"value": "alice@home.example", "type": "home"}
	tests := []applyCase{
		{
			name: "add to a filtered element merges",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"add","path":"emails[type eq \"home\"]","value":{"display":"Home","value":null}}`},
			want: with(baseUser(), "emails", []any{work, map[string]any{"value": "alice@home.example", "type": "home", "display": "Home"}}),
		},
		{
			name: "empty extension object changes nothing",
			rt:   userType, doc: with(baseUser(), ext, nil),
			ops:  []string{`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{}}`},
			want: with(baseUser(), ext, nil),
		},
		{
			name: "null extension in a path-less replace removes it",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":null}}`},
			want: with(baseUser(), ext, nil),
		},
		{
			name: "null in a path-less add changes nothing",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"add","value":{"displayName":null,"schemas":["x"]}}`},
			want: baseUser(),
		},
		{
			name: "an immutable value may be set while absent",
			rt:   groupType, doc: baseGroup(),
			ops: []string{`{"op":"add","path":"members[value eq \"u-2\"]","value":{"$ref":"https://x/Users/u-2"}}`},
			want: with(baseGroup(), "members", []any{baseGroup()["members"].([]any)[0], baseGroup()["members"].([]any)[1],
				map[string]any{"value": "u-2", "$ref": "https://x/Users/u-2"}}),
		},
		{
			name: "create from a filter on a group",
			rt:   groupType, doc: map[string]any{"displayName": "G"},
			ops:  []string{`{"op":"add","path":"members[type eq \"User\"].value","value":"u-5"}`},
			want: map[string]any{"displayName": "G", "members": []any{map[string]any{"type": "User", "value": "u-5"}}},
		},
		{
			name: "replace then remove in one request",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"replace","path":"emails","value":[]}`, `{"op":"remove","path":"emails[type eq \"work\"]"}`},
			want: with(baseUser(), "emails", nil),
		},
		{
			name: "the last element removed removes the attribute",
			rt:   userType, doc: with(baseUser(), "emails", []any{home}),
			ops:  []string{`{"op":"remove","path":"emails[type eq \"home\"].value"}`, `{"op":"remove","path":"emails[type eq \"home\"].type"}`},
			want: with(baseUser(), "emails", nil),
		},
		{
			name: "userName removed and added again",
			rt:   userType, doc: baseUser(),
			ops:  []string{`{"op":"remove","path":"userName"}`, `{"op":"add","path":"userName","value":"b@corp.example"}`},
			want: with(baseUser(), "userName", "b@corp.example"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDoc(t, mustRun(t, tt.rt, tt.doc, body(tt.ops...), Options{}), tt.want)
		})
	}

	runErrorCases(t, []errorCase{
		{name: "pr filter cannot create", ops: []string{`{"op":"replace","path":"emails[display pr].value","value":"x"}`}, typ: schema.NoTarget},
		{name: "eq null cannot create", ops: []string{`{"op":"replace","path":"emails[type eq null].value","value":"x"}`}, typ: schema.NoTarget},
		{name: "not cannot create", ops: []string{`{"op":"replace","path":"emails[not (type eq \"work\")].display","value":"x"}`, `{"op":"replace","path":"emails[not (type eq \"zz\")].display","value":"x"}`, `{"op":"replace","path":"emails[not (type ne \"zz\")].display","value":"x"}`}, typ: schema.NoTarget},
		{name: "conflicting eq values cannot create", ops: []string{`{"op":"replace","path":"emails[type eq \"a\" and type eq \"b\"].value","value":"x"}`}, typ: schema.NoTarget},
		{name: "filter on a whole extension", ops: []string{`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User[x eq 1]"}`}, typ: schema.InvalidPath},
		{name: "immutable value changed by merge", rt: groupType, doc: baseGroup(), ops: []string{`{"op":"add","path":"members[value eq \"u-1\"]","value":{"type":"Group"}}`}, typ: schema.NotMutable},
		{name: "required attribute unset by the last op that named it", ops: []string{`{"op":"add","path":"nickName","value":"n"}`, `{"op":"replace","path":"userName","value":""}`}, typ: schema.InvalidValue},
	})
}
