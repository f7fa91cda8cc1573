package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

var patchPathCases = []struct {
	in   string
	want PatchPath
}{
	{`members[value eq "2819c223"]`, PatchPath{Attr: path("members"), Filter: cmpx("value", Eq, "2819c223")}},
	{`members[value eq "a" or value eq "b"]`, PatchPath{Attr: path("members"), Filter: or(cmpx("value", Eq, "a"), cmpx("value", Eq, "b"))}},
	{`emails[type eq "work"].value`, PatchPath{Attr: path("emails"), Filter: cmpx("type", Eq, "work"), Sub: "value"}},
	{`addresses[type eq "work"].formatted`, PatchPath{Attr: path("addresses"), Filter: cmpx("type", Eq, "work"), Sub: "formatted"}},
	{`phoneNumbers[type eq "mobile"].value`, PatchPath{Attr: path("phoneNumbers"), Filter: cmpx("type", Eq, "mobile"), Sub: "value"}},
	{`emails[type eq work]`, PatchPath{Attr: path("emails"), Filter: cmpx("type", Eq, "work")}},
	{`name.familyName`, PatchPath{Attr: schema.Path{Attr: "name", Sub: "familyName"}}},
	{`name.FamilyName`, PatchPath{Attr: schema.Path{Attr: "name", Sub: "FamilyName"}}},
	{`active`, PatchPath{Attr: schema.Path{Attr: "active"}}},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`,
		PatchPath{Attr: schema.Path{URN: entURN, Attr: "manager"}}},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`,
		PatchPath{Attr: schema.Path{URN: entURN, Attr: "manager", Sub: "value"}}},
	{`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value`,
		PatchPath{Attr: schema.Path{URN: userURN, Attr: "emails"}, Filter: cmpx("type", Eq, "work"), Sub: "value"}},
	{`emails[type eq "work" and primary eq true]`,
		PatchPath{Attr: path("emails"), Filter: and(cmpx("type", Eq, "work"), cmpx("primary", Eq, true))}},
	{`emails[not (type eq "work")]`, PatchPath{Attr: path("emails"), Filter: not(cmpx("type", Eq, "work"))}},
}

func TestParsePatchPath(t *testing.T) {
	for _, tc := range patchPathCases {
		got, err := ParsePatchPath(tc.in)
		if err != nil {
			t.Errorf("ParsePatchPath(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParsePatchPath(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

var patchPathErrorCases = []struct {
	in     string
	offset int
	reason string
}{
	{``, 0, "expected an attribute path"},
	{`"name"`, 0, "expected an attribute path"},
	{`name.familyName.x`, 0, "not a valid attribute path"},
	{`emails[type eq "work"`, 21, `expected "]"`},
	{`emails[]`, 7, "empty value filter"},
	{`emails[type eq "work"]value`, 22, `expected ".subAttribute"`},
	{`emails[type eq "work"].value.display`, 22, "not a valid sub-attribute"},
	{`emails[type eq "work"] .value`, 23, "expected the end of the path"},
	{`emails[type eq "work"].value eq "x"`, 29, "expected the end of the path"},
	{`emails[type eq "work"]]`, 22, `"]" without a matching "["`},
	{`[type eq "work"]`, 0, "expected an attribute path"},
	{`name.givenName[value eq "x"]`, 0, "not to the sub-attribute"},
	{`emails[type[value eq "x"] pr]`, 11, "cannot be nested"},
	{`emails[type eq "work`, 15, "unterminated string"},
	{`emails[type zz "work"]`, 12, "unknown operator"},
	{`members value`, 8, "expected the end of the path"},
	{`members(value eq "x")`, 7, `expected the end of the path, found "("`},
}

func TestParsePatchPathErrors(t *testing.T) {
	for _, tc := range patchPathErrorCases {
		pp, err := ParsePatchPath(tc.in)
		if err == nil {
			t.Errorf("ParsePatchPath(%q) = %+v, want an error", tc.in, pp)
			continue
		}
		var se *schema.Error
		if !errors.As(err, &se) || se.Type != schema.InvalidPath || se.Field != "path" {
			t.Errorf("ParsePatchPath(%q): error %#v, want *schema.Error invalidPath on field path", tc.in, err)
			continue
		}
		prefix := "at offset " + itoa(tc.offset) + ": "
		if !strings.HasPrefix(se.Reason, prefix) || !strings.Contains(se.Reason, tc.reason) {
			t.Errorf("ParsePatchPath(%q) reason %q, want prefix %q containing %q", tc.in, se.Reason, prefix, tc.reason)
		}
	}
}

// The patch package compiles a path's filter with CompileElement against the
// attribute it names.
func TestPatchPathCompileElement(t *testing.T) {
	rt := schema.NewUserType()
	pp, err := ParsePatchPath(`emails[type eq "work"].value`)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := rt.Resolve(pp.Attr)
	if err != nil {
		t.Fatal(err)
	}
	f, err := CompileElement(rt, ref, pp.Filter)
	if err != nil {
		t.Fatal(err)
	}
	if !f.MatchElement(map[string]any{"type": "Work", "value": "a@b"}) || f.MatchElement(map[string]any{"type": "home"}) {
		t.Fatal("element filter mismatch")
	}
}
