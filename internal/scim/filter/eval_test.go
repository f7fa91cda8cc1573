package filter

import (
	"errors"
	"strings"
	"testing"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

const extURN = "urn:example:params:scim:schemas:extension:acme:2.0:User"

// extSchema adds the attribute types the core schemas lack: numbers and a
// multi-valued simple attribute.
var extSchema = func() *schema.Schema {
	s, err := schema.NewSchema(extURN, "Acme", "test extension", []*schema.Attribute{
		{Name: "level", Type: schema.Integer},
		{Name: "score", Type: schema.Decimal},
		{Name: "tags", Type: schema.String, MultiValued: true},
		{Name: "badge", Type: schema.Binary},
		{Name: "since", Type: schema.DateTime},
	})
	if err != nil {
		panic(err)
	}
	return s
}()

func userType() *schema.ResourceType { return schema.NewUserType(extSchema) }

func userDoc() map[string]any {
	return map[string]any{
		"id":          "2819c223-7f76-453a-919d-413861904646",
		"externalId":  "00ujl29u0le5T6Aj10h7",
		"userName":    "Bjensen@Example.com",
		"name":        map[string]any{"familyName": "Jensen", "givenName": "Barbara", "formatted": "Ms. Barbara J Jensen III"},
		"displayName": "Babs Jensen",
		"userType":    "Employee",
		"active":      true,
		"emails": []any{
			map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true},
			map[string]any{"value": "babs@jensen.org", "type": "home"},
		},
		"phoneNumbers": []any{map[string]any{"value": "555-555-8377", "type": "work"}},
		"roles":        []any{},
		"meta": map[string]any{
			"resourceType": "User",
			"created":      "2010-01-23T04:56:22Z",
			"lastModified": "2011-05-13T04:42:34Z",
			"version":      `W/"3694e05e9dff591"`,
		},
		entURN: map[string]any{
			"employeeNumber": "701984",
			"department":     "Tour Operations",
			"manager":        map[string]any{"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"},
		},
		extURN: map[string]any{
			"level": int64(7),
			"score": 3.5,
			"tags":  []any{"a", "B"},
			"since": "2020-02-29T12:00:00.5+01:00",
		},
	}
}

func groupDoc() map[string]any {
	return map[string]any{
		"id":          "e9e30dba-f08f-4109-8486-d5c6a331660a",
		"externalId":  "8aa1a0c0",
		"displayName": "Data Scientists",
		"members": []any{
			map[string]any{"value": "u1", "type": "User", "display": "Babs Jensen"},
			map[string]any{"value": "u2", "type": "User", "display": "Mandy Pepperidge"},
			map[string]any{"value": "g9", "type": "Group"},
		},
	}
}

var userMatchCases = []struct {
	filter string
	want   bool
}{
	// case rules: userName is caseExact false, externalId and id are exact
	{`userName eq "bjensen@example.com"`, true},
	{`USERNAME EQ "BJENSEN@EXAMPLE.COM"`, true},
	{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen@example.COM"`, true},
	{`userName eq "bjensen"`, false},
	{`externalId eq "00ujl29u0le5T6Aj10h7"`, true},
	{`externalId eq "00UJL29U0LE5T6AJ10H7"`, false},
	{`externalId eq 00ujl29u0le5T6Aj10h7`, true},
	{`externalId co "ujl29"`, true},
	{`externalId co "UJL29"`, false},
	{`id eq "2819C223-7F76-453A-919D-413861904646"`, false},
	{`id sw "2819c223"`, true},
	{`userName sw "BJENSEN"`, true},
	{`userName ew "example.COM"`, true},
	{`userName co "@EXAMPLE"`, true},
	{`userName gt "a"`, true},
	{`userName lt "a"`, false},
	{`displayName le "babs jensen"`, true},
	{`name.familyName co "ens"`, true},
	{`name.FamilyName eq "JENSEN"`, true},
	// multi-valued: any element
	{`emails.value eq "babs@jensen.org"`, true},
	{`emails eq "BABS@jensen.org"`, true},
	{`emails co "example.com"`, true},
	{`emails.value ew ".net"`, false},
	{`emails.type eq "work" and emails.value co "jensen.org"`, true},
	{`emails[type eq "work" and value co "jensen.org"]`, false},
	{`emails[type eq "work" and value co "example.com"]`, true},
	{`emails[type eq "home" and primary eq true]`, false},
	{`emails[type eq "work" and primary eq true]`, true},
	{`emails[not (type eq "work")]`, true},
	{`emails[emails.type eq "home"]`, true},
	{`emails[type eq "work"].value eq "bjensen@example.com"`, true},
	{`emails[type eq "work"].value eq "babs@jensen.org"`, false},
	{`emails.type ne "work"`, false}, // ne is the complement of eq
	{`emails.type ne "other"`, true},
	{`phoneNumbers[type eq "work"]`, true},
	{`name[givenName eq "barbara"]`, true},
	// dateTimes compare as instants
	{`meta.lastModified gt "2011-05-13T04:42:33Z"`, true},
	{`meta.lastModified gt "2011-05-13T04:42:34Z"`, false},
	{`meta.lastModified ge "2011-05-13T04:42:34Z"`, true},
	{`meta.lastModified eq "2011-05-13T06:42:34+02:00"`, true},
	{`meta.lastModified gt "2011-05-13T06:42:33+02:00"`, true},
	{`meta.lastModified lt "2011-05-13T04:42:34.001Z"`, true},
	{`urn:example:params:scim:schemas:extension:acme:2.0:User:since gt "2020-02-29T11:00:00Z"`, true},
	// numbers, int64 and float64 alike
	{extURN + `:level gt 5`, true},
	{extURN + `:level eq 7`, true},
	{extURN + `:level eq 7.0`, true},
	{extURN + `:level ge 7.5`, false},
	{extURN + `:level lt 7.5`, true},
	{extURN + `:level eq "7"`, false}, // type mismatch never matches
	{extURN + `:level ne "7"`, true},
	{extURN + `:score le 3.5`, true},
	{extURN + `:score gt 3.49e0`, true},
	{extURN + `:score eq 3`, false},
	{extURN + `:tags eq "b"`, true},
	{extURN + `:tags eq "c"`, false},
	{extURN + `:badge pr`, false},
	// booleans
	{`active eq true`, true},
	{`active eq TRUE`, true},
	{`active eq "True"`, true},
	{`active eq false`, false},
	{`active ne false`, true},
	{`emails.primary eq true`, true},
	// pr and null
	{`title pr`, false},
	{`roles pr`, false},
	{`emails pr`, true},
	{`name pr`, true},
	{`name.familyName pr`, true},
	{`name.middleName pr`, false},
	{`x509Certificates pr`, false},
	{`title eq null`, true},
	{`roles eq null`, true},
	{`userName eq null`, false},
	{`userName ne null`, true},
	{`title ne null`, false},
	{`title ne "x"`, true},
	{`nickName ne "x"`, true},
	// mismatched types are false, not errors
	{`userName eq 5`, false},
	{`userName ne 5`, true},
	{`userName gt 5`, false},
	{`userName eq true`, false},
	// extensions
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`, true},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department co "tour"`, true},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter pr`, false},
	// logic
	{`not (userName eq "x")`, true},
	{`userName eq "x" or active eq true`, true},
	{`userName eq "x" or active eq true and title pr`, false},
	{`(userName eq "x" or active eq true) and not (title pr)`, true},
	{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, true},
	{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, false},
}

func TestMatchUser(t *testing.T) {
	rt := userType()
	doc := userDoc()
	for _, tc := range userMatchCases {
		f := mustCompile(t, rt, tc.filter)
		if got := f.Match(doc); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func TestMatchGroup(t *testing.T) {
	rt := schema.NewGroupType()
	doc := groupDoc()
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{`displayName eq "data scientists"`, true},
		{`members[value eq "u2"]`, true},
		{`members[value eq "U2"]`, false}, // members.value is caseExact
		{`members.value eq "u3"`, false},
		{`members eq "g9"`, true},
		{`members[type eq "group" and value eq "g9"]`, true},
		{`members[type eq "Group" and value eq "u1"]`, false},
		{`members.type eq "Group" and members.value eq "u1"`, true},
		{`members pr`, true},
		{`members[display pr and value sw "g"]`, false},
		{`externalId eq "8aa1a0c0" and displayName sw "Data"`, true},
	} {
		f := mustCompile(t, rt, tc.filter)
		if got := f.Match(doc); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.filter, got, tc.want)
		}
	}
	empty := map[string]any{"displayName": "Empty", "members": []any{}}
	if mustCompile(t, rt, `members pr`).Match(empty) {
		t.Error("members pr matched an empty member list")
	}
	if !mustCompile(t, rt, `not (members pr)`).Match(empty) {
		t.Error("not (members pr) did not match an empty member list")
	}
}

// Documents that do not follow the schema (wrong value types, stray
// shapes) must give false, never a panic.
func TestMatchMalformedDocs(t *testing.T) {
	rt := userType()
	docs := []map[string]any{
		nil,
		{},
		{"userName": 5, "emails": "x@y", "name": "Jensen", "meta": []any{1}, "active": "true"},
		{"emails": []any{"x", 1, nil, []any{map[string]any{"value": "x"}}}, "name": map[string]any{"familyName": 3}},
		{"emails": map[string]any{"value": "x"}, entURN: "not an object", extURN: map[string]any{"level": "7", "score": nil, "tags": "a", "since": 5}},
		{"meta": map[string]any{"lastModified": "yesterday"}, extURN: map[string]any{"level": 1e300, "score": int64(1 << 62)}},
	}
	for _, tc := range userMatchCases {
		f := mustCompile(t, rt, tc.filter)
		for _, d := range docs {
			f.Match(d)
		}
	}
	if mustCompile(t, rt, `emails.value eq "x"`).Match(docs[4]) != true {
		t.Error("a single object where an array is expected should still be read")
	}
}

func TestCompileErrors(t *testing.T) {
	rt := userType()
	for _, tc := range []struct{ filter, reason string }{
		{`foo eq "x"`, `attribute "foo"`},
		{`name.foo eq "x"`, `no sub-attribute "foo"`},
		{`userName.x eq "x"`, "has no sub-attributes"},
		{`urn:x:y:foo eq "x"`, "unknown schema"},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User pr`, "names a schema extension"},
		{`employeeNumber eq "1"`, `attribute "employeeNumber"`},
		{`active gt true`, "gt cannot be used with active"},
		{`active lt "x"`, "lt cannot be used"},
		{`active co "t"`, "co cannot be used"},
		{`x509Certificates.value gt "a"`, "binary"},
		{`name gt "x"`, "complex"},
		{`name eq "x"`, "complex"},
		{`meta.lastModified co "2011"`, "co cannot be used"},
		{`meta.lastModified gt "yesterday"`, "is a dateTime"},
		{`meta.created lt meta.lastModified`, "is a dateTime"},
		{extURN + `:level sw "1"`, "sw cannot be used"},
		{`userName gt null`, "gt needs a string, number or dateTime value, not null"},
		{`userName ge true`, "ge needs"},
		{`userName co 5`, "co needs a string value"},
		{`userName ew null`, "ew needs a string value"},
		{`emails[foo eq "x"]`, `"foo" is not a sub-attribute of emails`},
		{`emails[name.familyName eq "x"]`, "is not a sub-attribute of emails"},
		{`userName[value eq "x"]`, "value filters apply to complex attributes"},
		{`emails[type eq "work"].foo eq "x"`, `"foo" is not a sub-attribute`},
	} {
		e, err := Parse(tc.filter)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.filter, err)
		}
		_, err = Compile(rt, e)
		checkFilterError(t, tc.filter, err, tc.reason)
	}
}

func TestCompileHandBuilt(t *testing.T) {
	rt := userType()
	for _, tc := range []struct {
		name   string
		e      Expr
		reason string
	}{
		{"nil", nil, "empty filter"},
		{"nil pointer", (*Compare)(nil), "empty filter"},
		{"nil child", &Logical{Op: "and", Left: cmpx("userName", Eq, "x")}, "empty filter"},
		{"bad logical", &Logical{Op: "xor", Left: cmpx("userName", Eq, "x"), Right: cmpx("userName", Eq, "y")}, "unknown logical operator"},
		{"bad op", cmpx("userName", "like", "x"), "unknown operator"},
		{"nested value path", vp("emails", vp("emails", cmpx("type", Eq, "x"))), "cannot be nested"},
		{"value path with sub", &ValuePath{Attr: path("name.givenName"), Filter: cmpx("value", Eq, "x")}, "not to the sub-attribute"},
		{"unsupported value", cmpx("userName", Eq, []string{"x"}), ""},
	} {
		_, err := Compile(rt, tc.e)
		if tc.reason == "" {
			continue // only must not panic
		}
		checkFilterError(t, tc.name, err, tc.reason)
	}
	// Value nodes are accepted as well as pointers.
	f, err := Compile(rt, Logical{Op: "AND", Left: Compare{Path: path("userName"), Op: Eq, Value: "bjensen@example.com"},
		Right: Not{X: ValuePath{Attr: path("emails"), Filter: Compare{Path: path("type"), Op: Eq, Value: "other"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if !f.Match(userDoc()) {
		t.Error("hand-built value-node filter did not match")
	}
	if _, err := Compile(nil, cmpx("userName", Eq, "x")); err == nil {
		t.Error("Compile(nil rt) succeeded")
	}
}

func TestCompileElement(t *testing.T) {
	rt := userType()
	emails, _ := rt.ResolveString("emails")
	for _, tc := range []struct {
		filter string
		elem   map[string]any
		want   bool
	}{
		{`type eq "work"`, map[string]any{"type": "Work", "value": "a@b"}, true},
		{`type eq "work"`, map[string]any{"type": "home"}, false},
		{`emails.type eq "work"`, map[string]any{"type": "work"}, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:emails.type eq "work"`, map[string]any{"type": "work"}, true},
		{`type eq "work" and value ew "@b"`, map[string]any{"type": "work", "value": "a@B"}, true},
		{`primary eq true`, map[string]any{"primary": true}, true},
		{`primary eq true`, map[string]any{}, false},
		{`display ne "x"`, map[string]any{}, true},
		{`value pr`, map[string]any{"value": ""}, false},
	} {
		e, err := Parse(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		f, err := CompileElement(rt, emails, e)
		if err != nil {
			t.Fatalf("CompileElement(%q): %v", tc.filter, err)
		}
		if got := f.MatchElement(tc.elem); got != tc.want {
			t.Errorf("%s on %v: MatchElement = %v, want %v", tc.filter, tc.elem, got, tc.want)
		}
	}

	f, err := CompileElement(rt, emails, cmpx("type", Eq, "home"))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Match(userDoc()) {
		t.Error("Match of an element filter should test the resource's elements")
	}
	if f.Expr() == nil {
		t.Error("Expr() lost the expression")
	}

	members, _ := schema.NewGroupType().ResolveString("members")
	mf, err := CompileElement(schema.NewGroupType(), members, cmpx("value", Eq, "u1"))
	if err != nil {
		t.Fatal(err)
	}
	if !mf.MatchElement(map[string]any{"value": "u1", "type": "User"}) || mf.MatchElement(map[string]any{"value": "U1"}) {
		t.Error("members element filter")
	}

	userName, _ := rt.ResolveString("userName")
	nameGiven, _ := rt.ResolveString("name.givenName")
	for _, tc := range []struct {
		name   string
		ref    schema.Ref
		e      Expr
		reason string
	}{
		{"not complex", userName, cmpx("value", Eq, "x"), "needs a complex attribute"},
		{"sub ref", nameGiven, cmpx("value", Eq, "x"), "needs a complex attribute"},
		{"no attr", schema.Ref{}, cmpx("value", Eq, "x"), "needs a complex attribute"},
		{"unknown sub", emails, cmpx("foo", Eq, "x"), "not a sub-attribute"},
		{"nested", emails, vp("emails", cmpx("type", Eq, "x")), "cannot be nested"},
		{"nil", emails, nil, "empty filter"},
	} {
		_, err := CompileElement(rt, tc.ref, tc.e)
		checkFilterError(t, tc.name, err, tc.reason)
	}

	resource := mustCompile(t, rt, `userName pr`)
	if resource.MatchElement(map[string]any{"userName": "x"}) {
		t.Error("MatchElement of a resource filter should be false")
	}
	var nilFilter *Filter
	if nilFilter.Match(userDoc()) || nilFilter.MatchElement(nil) || nilFilter.Expr() != nil {
		t.Error("nil *Filter")
	}
}

func mustCompile(t testing.TB, rt *schema.ResourceType, s string) *Filter {
	t.Helper()
	e, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	f, err := Compile(rt, e)
	if err != nil {
		t.Fatalf("Compile(%q): %v", s, err)
	}
	return f
}

func checkFilterError(t *testing.T, what string, err error, reason string) {
	t.Helper()
	var se *schema.Error
	if !errors.As(err, &se) {
		t.Errorf("%s: error %v, want *schema.Error", what, err)
		return
	}
	if se.Type != schema.InvalidFilter || se.Field != "filter" || !strings.Contains(se.Reason, reason) {
		t.Errorf("%s: error %+v, want invalidFilter on filter containing %q", what, se, reason)
	}
}

func BenchmarkParseMatch(b *testing.B) {
	rt := userType()
	doc := userDoc()
	const s = `userName eq "bjensen@example.com" and (emails[type eq "work" and value co "@example.com"] or meta.lastModified gt "2011-01-01T00:00:00Z")`
	b.ReportAllocs()
	for b.Loop() {
		e, err := Parse(s)
		if err != nil {
			b.Fatal(err)
		}
		f, err := Compile(rt, e)
		if err != nil {
			b.Fatal(err)
		}
		if !f.Match(doc) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	f := mustCompile(b, userType(), `userName eq "bjensen@example.com" and emails[type eq "work" and value co "@example.com"]`)
	doc := userDoc()
	b.ReportAllocs()
	for b.Loop() {
		if !f.Match(doc) {
			b.Fatal("no match")
		}
	}
}

// Case-insensitive comparison folds with strings.ToLower, as the store's
// indexes do, so that Match never accepts a document Plan's lookups miss.
func TestCaseFoldingMatchesStore(t *testing.T) {
	rt := userType()
	for _, tc := range []struct {
		userName, filter string
		want             bool
	}{
		{"ſ", `userName eq "s"`, false}, // strings.EqualFold would say true
		{"STRASSE", `userName eq "straße"`, false},
		{"ÉCOLE", `userName eq "école"`, true},
		{"Ǆemal", `userName eq "ǆEMAL"`, true},
		{"KELVIN", `userName eq "kelvin"`, true},
		{"a", `userName eq "A"`, true},
		{"ab", `userName eq "a"`, false},
		{"ÀB", `userName sw "àb"`, true},
	} {
		doc := map[string]any{"userName": tc.userName}
		f := mustCompile(t, rt, tc.filter)
		if got := f.Match(doc); got != tc.want {
			t.Errorf("%s on %q: %v, want %v", tc.filter, tc.userName, got, tc.want)
		}
		checkPlanCovers(t, rt, f, doc)
	}
}
