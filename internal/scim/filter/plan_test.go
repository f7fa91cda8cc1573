package filter

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

var indexed = map[string]bool{
	"userName": true, "externalId": true, "emails.value": true, "displayName": true, "id": true, "members.value": true,
	entURN + ":employeeNumber": true, "meta.lastModified": true, "title": false,
}

func lk(attr, value string) Lookup     { return Lookup{Attr: attr, Value: value} }
func prefix(attr, value string) Lookup { return Lookup{Attr: attr, Value: value, Prefix: true} }

func TestPlan(t *testing.T) {
	cases := []struct {
		rt     *schema.ResourceType
		filter string
		want   []Lookup // nil: not plannable
	}{
		{nil, `userName eq "Bjensen"`, []Lookup{lk("userName", "Bjensen")}},
		{nil, `USERNAME EQ "x"`, []Lookup{lk("userName", "x")}},
		{nil, `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, []Lookup{lk("userName", "x")}},
		{nil, `userName sw "bj"`, []Lookup{prefix("userName", "bj")}},
		{nil, `externalId eq jyoung`, []Lookup{lk("externalId", "jyoung")}},
		{nil, `id eq "2819c223"`, []Lookup{lk("id", "2819c223")}},
		{nil, `userName co "x"`, nil},
		{nil, `userName ew "x"`, nil},
		{nil, `userName ne "x"`, nil},
		{nil, `userName gt "x"`, nil},
		{nil, `userName pr`, nil},
		{nil, `userName eq null`, nil},
		{nil, `userName eq 5`, nil},
		{nil, `title eq "x"`, nil},    // indexed but switched off
		{nil, `nickName eq "x"`, nil}, // not indexed
		{nil, `meta.lastModified eq "2011-05-13T04:42:34Z"`, nil},
		{nil, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "4711"`, []Lookup{lk(entURN+":employeeNumber", "4711")}},
		// and: either side; prefer eq over a prefix, then fewer lookups
		{nil, `userName eq "x" and title pr`, []Lookup{lk("userName", "x")}},
		{nil, `title pr and userName eq "x"`, []Lookup{lk("userName", "x")}},
		{nil, `userName sw "a" and externalId eq "b"`, []Lookup{lk("externalId", "b")}},
		{nil, `externalId eq "b" and userName sw "a"`, []Lookup{lk("externalId", "b")}},
		{nil, `externalId eq "a" and userName eq "b"`, []Lookup{lk("externalId", "a")}},
		{nil, `(userName eq "a" or externalId eq "b") and emails.value eq "c"`, []Lookup{lk("emails.value", "c")}},
		{nil, `(userName eq "a" or externalId eq "b") and emails.value sw "c"`, []Lookup{lk("userName", "a"), lk("externalId", "b")}},
		// or: both sides
		{nil, `userName eq "a" or externalId eq "b"`, []Lookup{lk("userName", "a"), lk("externalId", "b")}},
		{nil, `userName eq "a" or userName eq "a"`, []Lookup{lk("userName", "a")}},
		{nil, `userName eq "a" or title pr`, nil},
		{nil, `userName eq "a" or (externalId eq "b" and title pr)`, []Lookup{lk("userName", "a"), lk("externalId", "b")}},
		// not
		{nil, `not (userName eq "a")`, nil},
		{nil, `not (userName eq "a") and externalId eq "b"`, []Lookup{lk("externalId", "b")}},
		{nil, `not (userName ne "a")`, nil},
		// multi-valued and value paths
		{nil, `emails.value eq "a@b"`, []Lookup{lk("emails.value", "a@b")}},
		{nil, `emails eq "a@b"`, []Lookup{lk("emails.value", "a@b")}},
		{nil, `emails[type eq "work"].value eq "alice@corp.example"`, []Lookup{lk("emails.value", "alice@corp.example")}},
		{nil, `emails[type eq "work" and value eq "x"]`, []Lookup{lk("emails.value", "x")}},
		{nil, `emails[value eq "a" or value eq "b"]`, []Lookup{lk("emails.value", "a"), lk("emails.value", "b")}},
		{nil, `emails[type eq "work"]`, nil},
		{nil, `emails[not (value eq "x")]`, nil},
		{nil, `emails.type eq "work" and emails.value eq "x"`, []Lookup{lk("emails.value", "x")}},
		// groups
		{schema.NewGroupType(), `displayName eq "Data Scientists"`, []Lookup{lk("displayName", "Data Scientists")}},
		{schema.NewGroupType(), `members[value eq "2819c223"]`, []Lookup{lk("members.value", "2819c223")}},
		{schema.NewGroupType(), `members.value eq "2819c223"`, []Lookup{lk("members.value", "2819c223")}},
		{schema.NewGroupType(), `members eq "2819c223"`, []Lookup{lk("members.value", "2819c223")}},
		{schema.NewGroupType(), `members[type eq "User"]`, nil},
	}
	for _, tc := range cases {
		rt := tc.rt
		if rt == nil {
			rt = userType()
		}
		f := mustCompile(t, rt, tc.filter)
		got, ok := f.Plan(indexed)
		if ok != (tc.want != nil) || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Plan(%s) = %v, %v; want %v", tc.filter, got, ok, tc.want)
		}
	}
}

// The handler builds its index set from lower-case store keys.
func TestPlanLowerCaseKeys(t *testing.T) {
	lower := map[string]bool{"username": true, "externalid": true, "emails.value": true}
	f := mustCompile(t, userType(), `emails[type eq "work"].value eq "A@B" and UserName eq "x"`)
	got, ok := f.Plan(lower)
	if !ok || !reflect.DeepEqual(got, []Lookup{lk("emails.value", "A@B")}) {
		t.Fatalf("got %v, %v", got, ok)
	}
	if _, ok := f.Plan(nil); ok {
		t.Fatal("planned without indexes")
	}
	var nilFilter *Filter
	if _, ok := nilFilter.Plan(lower); ok {
		t.Fatal("nil filter planned")
	}
}

func TestPlanElement(t *testing.T) {
	rt := schema.NewGroupType()
	members, _ := rt.ResolveString("members")
	f, err := CompileElement(rt, members, or(cmpx("value", Eq, "a"), cmpx("value", Eq, "b")))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := f.Plan(indexed)
	if !ok || !reflect.DeepEqual(got, []Lookup{lk("members.value", "a"), lk("members.value", "b")}) {
		t.Fatalf("got %v, %v", got, ok)
	}
}

// TestPlanCovers checks the Plan contract on the test documents: whenever
// a document matches, one of the lookups finds it in a simulated index.
func TestPlanCovers(t *testing.T) {
	rt := userType()
	doc := userDoc()
	for _, tc := range userMatchCases {
		f := mustCompile(t, rt, tc.filter)
		checkPlanCovers(t, rt, f, doc)
	}
}

func checkPlanCovers(t testing.TB, rt *schema.ResourceType, f *Filter, doc map[string]any) {
	t.Helper()
	lookups, ok := f.Plan(indexed)
	if !ok || !f.Match(doc) {
		return
	}
	for _, l := range lookups {
		if indexHas(rt, doc, l) {
			return
		}
	}
	t.Errorf("%s matches %v but its plan %v does not find it", f.Expr(), doc, lookups)
}

// indexHas simulates a store index: the document's string values at
// l.Attr, case-folded unless the attribute is caseExact.
func indexHas(rt *schema.ResourceType, doc map[string]any, l Lookup) bool {
	ref, err := rt.ResolveString(l.Attr)
	if err != nil {
		return false
	}
	c := rt.Container(doc, ref, false)
	var vals []any
	switch v := c[ref.Attr.Name].(type) {
	case []any:
		vals = v
	default:
		vals = []any{v}
	}
	for _, v := range vals {
		if ref.Sub != nil {
			m, _ := v.(map[string]any)
			v = m[ref.Sub.Name]
		}
		s, ok := v.(string)
		if !ok {
			continue
		}
		want := l.Value
		if !ref.Target().CaseExact {
			s, want = strings.ToLower(s), strings.ToLower(want)
		}
		if s == want || (l.Prefix && strings.HasPrefix(s, want)) {
			return true
		}
	}
	return false
}
