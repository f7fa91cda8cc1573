package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// malformedDocs do not follow the schema; matching them must not panic.
var malformedDocs = []map[string]any{
	nil,
	{"userName": 5, "emails": "x@y", "name": "Jensen", "meta": []any{1}, "active": "true", "members": map[string]any{"value": 1}},
	{"emails": []any{"x", 1, nil, []any{map[string]any{"value": "x"}}}, "displayName": []any{"a", 2.5}},
	{entURN: "x", extURN: map[string]any{"level": "7", "score": nil, "tags": "a", "since": 5}, "meta": map[string]any{"lastModified": "nope"}},
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in)
	}
	for _, tc := range parseErrorCases {
		f.Add(tc.in)
	}
	for _, tc := range userMatchCases {
		f.Add(tc.filter)
	}
	user, group := userType(), schema.NewGroupType()
	docs := append([]map[string]any{userDoc(), groupDoc()}, malformedDocs...)
	emails, _ := user.ResolveString("emails")
	elems := userDoc()["emails"].([]any)

	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var se *schema.Error
			if !errors.As(err, &se) || se.Type != schema.InvalidFilter || se.Field != "filter" || !strings.HasPrefix(se.Reason, "at offset ") {
				t.Fatalf("Parse(%q): bad error %#v", s, err)
			}
			return
		}
		canon := e.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) printed %q, which does not parse: %v", s, canon, err)
		}
		if !reflect.DeepEqual(e, again) {
			t.Fatalf("Parse(%q) printed %q, which parses to a different tree %q", s, canon, again)
		}
		if again.String() != canon {
			t.Fatalf("canonical form of %q is not stable: %q then %q", s, canon, again.String())
		}
		for _, rt := range []*schema.ResourceType{user, group} {
			flt, err := Compile(rt, e)
			if err != nil {
				var se *schema.Error
				if !errors.As(err, &se) || se.Type != schema.InvalidFilter {
					t.Fatalf("Compile(%q): bad error %#v", s, err)
				}
				continue
			}
			for _, d := range docs {
				flt.Match(d)
				checkPlanCovers(t, rt, flt, d)
			}
		}
		if flt, err := CompileElement(user, emails, e); err == nil {
			for _, el := range elems {
				flt.MatchElement(el.(map[string]any))
			}
			flt.Match(userDoc())
		}
	})
}

func FuzzParsePatchPath(f *testing.F) {
	for _, tc := range patchPathCases {
		f.Add(tc.in)
	}
	for _, tc := range patchPathErrorCases {
		f.Add(tc.in)
	}
	user, group := userType(), schema.NewGroupType()

	f.Fuzz(func(t *testing.T, s string) {
		pp, err := ParsePatchPath(s)
		if err != nil {
			var se *schema.Error
			if !errors.As(err, &se) || se.Type != schema.InvalidPath || se.Field != "path" || !strings.HasPrefix(se.Reason, "at offset ") {
				t.Fatalf("ParsePatchPath(%q): bad error %#v", s, err)
			}
			return
		}
		if pp.Filter == nil && pp.Sub != "" || pp.Filter != nil && pp.Attr.Sub != "" {
			t.Fatalf("ParsePatchPath(%q) = %+v: Sub and Attr.Sub are exclusive", s, pp)
		}
		canon := pp.String()
		again, err := ParsePatchPath(canon)
		if err != nil {
			t.Fatalf("ParsePatchPath(%q) printed %q, which does not parse: %v", s, canon, err)
		}
		if !reflect.DeepEqual(pp, again) {
			t.Fatalf("ParsePatchPath(%q) printed %q, which parses to %+v, not %+v", s, canon, again, pp)
		}
		for _, rt := range []*schema.ResourceType{user, group} {
			ref, err := rt.Resolve(pp.Attr)
			if err != nil || pp.Filter == nil {
				continue
			}
			flt, err := CompileElement(rt, ref, pp.Filter)
			if err != nil {
				continue
			}
			flt.MatchElement(map[string]any{"value": "u1", "type": "work", "primary": true})
			flt.MatchElement(nil)
			flt.Match(userDoc())
			flt.Match(groupDoc())
		}
	})
}
