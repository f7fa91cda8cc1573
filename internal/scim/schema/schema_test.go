package schema

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestBuiltinSchemasAreValid(t *testing.T) {
	for _, s := range []*Schema{Common, User, Group, Enterprise} {
		if _, err := NewSchema(s.ID, s.Name, s.Description, s.Attributes); err != nil {
			t.Errorf("%s: %v", s.ID, err)
		}
	}
}

func TestNewSchemaReportsEveryProblem(t *testing.T) {
	_, err := NewSchema("not-a-urn", "X", "", []*Attribute{
		{Name: "1bad", Type: String},
		{Name: "dup", Type: String},
		{Name: "DUP", Type: String},
		{Name: "weird", Type: "float"},
		{Name: "c", Type: Complex, SubAttributes: []*Attribute{{Name: "inner", Type: Complex}}},
		{Name: "s", Type: String, SubAttributes: []*Attribute{{Name: "x", Type: String}}},
	})
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{"must be a URN", `"1bad"`, "defined twice", "unknown type", "cannot contain another", "only complex"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		in      string
		want    Path
		wantErr bool
	}{
		{in: "userName", want: Path{Attr: "userName"}},
		{in: "name.familyName", want: Path{Attr: "name", Sub: "familyName"}},
		{in: "urn:ietf:params:scim:schemas:core:2.0:User:userName", want: Path{URN: UserURN, Attr: "userName"}},
		{in: EnterpriseURN + ":manager.value", want: Path{URN: EnterpriseURN, Attr: "manager", Sub: "value"}},
		{in: "members.$ref", want: Path{Attr: "members", Sub: "$ref"}},
		{in: "", wantErr: true},
		{in: "a.b.c", wantErr: true},
		{in: "name.", wantErr: true},
		{in: "9lives", wantErr: true},
		{in: "emails[type eq \"work\"]", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParsePath(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("ParsePath(%q) = %+v, %v; want %+v (err %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestResolve(t *testing.T) {
	rt := NewUserType()
	tests := []struct {
		path       string
		schema     *Schema
		attr, sub  string
		wholeExt   bool
		wantErrTyp ErrorType
	}{
		{path: "USERNAME", schema: User, attr: "userName"},
		{path: "id", schema: Common, attr: "id"},
		{path: "meta.lastModified", schema: Common, attr: "meta", sub: "lastModified"},
		{path: "emails.Value", schema: User, attr: "emails", sub: "value"},
		{path: EnterpriseURN + ":department", schema: Enterprise, attr: "department"},
		{path: strings.ToLower(EnterpriseURN) + ":Manager.value", schema: Enterprise, attr: "manager", sub: "value"},
		{path: EnterpriseURN, schema: Enterprise, wholeExt: true},
		{path: "department", wantErrTyp: InvalidPath},
		{path: "userName.x", wantErrTyp: InvalidPath},
		{path: "name.nope", wantErrTyp: InvalidPath},
		{path: "urn:example:unknown:1.0:User:x", wantErrTyp: InvalidPath},
	}
	for _, tt := range tests {
		r, err := rt.ResolveString(tt.path)
		if tt.wantErrTyp != "" {
			var se *Error
			if !errors.As(err, &se) || se.Type != tt.wantErrTyp {
				t.Errorf("Resolve(%q) err = %v, want %s", tt.path, err, tt.wantErrTyp)
			}
			continue
		}
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.path, err)
			continue
		}
		if r.Schema != tt.schema || (tt.wholeExt != (r.Attr == nil)) {
			t.Errorf("Resolve(%q) = %+v", tt.path, r)
			continue
		}
		if r.Attr != nil && r.Attr.Name != tt.attr || (tt.sub != "") != (r.Sub != nil) || (r.Sub != nil && r.Sub.Name != tt.sub) {
			t.Errorf("Resolve(%q) = attr %v sub %v", tt.path, r.Attr, r.Sub)
		}
	}
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNormalize(t *testing.T) {
	rt := NewUserType()
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr ErrorType
	}{
		{name: "canonical names, string booleans (Entra)",
			in:   `{"schemas":["` + UserURN + `"],"USERNAME":"a","Active":"False","name":{"GivenName":"A"}}`,
			want: `{"userName":"a","active":false,"name":{"givenName":"A"}}`},
		{name: "read-only and write-only ignored (Okta placeholder password, groups, meta, id)",
			in:   `{"userName":"a","password":"x","groups":[],"meta":{"resourceType":"User"},"id":"client-id"}`,
			want: `{"userName":"a"}`},
		{name: "dotted and URN keys (Entra path-less values)",
			in:   `{"name.familyName":"F","` + EnterpriseURN + `:employeeNumber":"4711","urn:ietf:params:scim:schemas:core:2.0:User:title":"T"}`,
			want: `{"name":{"familyName":"F"},"title":"T","` + EnterpriseURN + `":{"employeeNumber":"4711"}}`},
		{name: "extension object, nulls and empties dropped",
			in:   `{"userName":"a","nickName":null,"roles":[],"` + EnterpriseURN + `":{"department":"R","manager":{"value":"b","displayName":"ro"}}}`,
			want: `{"userName":"a","` + EnterpriseURN + `":{"department":"R","manager":{"value":"b"}}}`},
		{name: "null sub-attributes are unassigned (Entra $ref:null)",
			in:   `{"userName":"a","name":{"givenName":null,"familyName":"F"},"emails":[null,{"value":"x","primary":null,"type":null}]}`,
			want: `{"userName":"a","name":{"familyName":"F"},"emails":[{"value":"x"}]}`},
		{name: "unknown attribute", in: `{"userName":"a","shoeSize":1}`, wantErr: InvalidValue},
		{name: "unknown sub-attribute", in: `{"name":{"nick":"x"}}`, wantErr: InvalidValue},
		{name: "multi-valued needs an array", in: `{"emails":{"value":"x"}}`, wantErr: InvalidValue},
		{name: "wrong type", in: `{"userName":7}`, wantErr: InvalidValue},
		{name: "not a boolean", in: `{"active":"yes"}`, wantErr: InvalidValue},
		{name: "schemas not an array", in: `{"schemas":"x"}`, wantErr: InvalidSyntax},
		{name: "unknown extension", in: `{"urn:example:ext:1.0:User":{"a":1}}`, wantErr: InvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rt.Normalize(decode(t, tt.in))
			if tt.wantErr != "" {
				var se *Error
				if !errors.As(err, &se) || se.Type != tt.wantErr {
					t.Fatalf("err = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			json.Unmarshal([]byte(tt.want), &want)
			gb, _ := json.Marshal(got)
			var gotGeneric map[string]any
			json.Unmarshal(gb, &gotGeneric)
			if !reflect.DeepEqual(gotGeneric, want) {
				t.Fatalf("got %s\nwant %s", gb, tt.want)
			}
		})
	}
}

func TestNormalizeTypes(t *testing.T) {
	ext, err := NewSchema("urn:example:acme:1.0:User", "Acme", "", []*Attribute{
		{Name: "level", Type: Integer}, {Name: "score", Type: Decimal}, {Name: "since", Type: DateTime},
	})
	if err != nil {
		t.Fatal(err)
	}
	rt := NewUserType(ext)
	got, err := rt.Normalize(decode(t, `{"urn:example:acme:1.0:User":{"level":3,"score":1.5,"since":"2024-01-02T03:04:05Z"}}`))
	if err != nil {
		t.Fatal(err)
	}
	e := got[ext.ID].(map[string]any)
	if e["level"] != int64(3) || e["score"] != 1.5 || e["since"] != "2024-01-02T03:04:05Z" {
		t.Fatalf("got %#v", e)
	}
	for _, bad := range []string{`{"level":1.5}`, `{"score":"x"}`, `{"since":"yesterday"}`} {
		if _, err := rt.Normalize(decode(t, `{"urn:example:acme:1.0:User":`+bad+`}`)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestCheckRequired(t *testing.T) {
	if err := NewUserType().CheckRequired(map[string]any{"name": map[string]any{"givenName": "x"}}); err == nil || !strings.Contains(err.Error(), "userName") {
		t.Fatalf("err = %v", err)
	}
	if err := NewGroupType().CheckRequired(map[string]any{"displayName": "g"}); err != nil {
		t.Fatal(err)
	}
}

func TestProjection(t *testing.T) {
	rt := NewUserType()
	doc := map[string]any{
		"id": "1", "userName": "a", "password": "never", "title": "t",
		"meta":        map[string]any{"resourceType": "User"},
		"name":        map[string]any{"givenName": "G", "familyName": "F"},
		"emails":      []any{map[string]any{"value": "a@x", "type": "work"}},
		EnterpriseURN: map[string]any{"department": "D", "costCenter": "C"},
	}
	tests := []struct {
		attrs, excluded string
		want            []string // top-level keys
		check           func(t *testing.T, out map[string]any)
	}{
		{want: []string{"id", "userName", "title", "meta", "name", "emails", EnterpriseURN}},
		{attrs: "userName", want: []string{"id", "userName"}},
		{attrs: "name.givenName,emails.type", want: []string{"id", "name", "emails"}, check: func(t *testing.T, out map[string]any) {
			if !reflect.DeepEqual(out["name"], map[string]any{"givenName": "G"}) || !reflect.DeepEqual(out["emails"], []any{map[string]any{"type": "work"}}) {
				t.Errorf("sub-attribute projection: %v %v", out["name"], out["emails"])
			}
		}},
		{attrs: EnterpriseURN + ":department", want: []string{"id", EnterpriseURN}, check: func(t *testing.T, out map[string]any) {
			if !reflect.DeepEqual(out[EnterpriseURN], map[string]any{"department": "D"}) {
				t.Errorf("extension projection: %v", out[EnterpriseURN])
			}
		}},
		{excluded: "emails,name.familyName,id", want: []string{"id", "userName", "title", "meta", "name", EnterpriseURN}},
		{excluded: EnterpriseURN, want: []string{"id", "userName", "title", "meta", "name", "emails"}},
	}
	for _, tt := range tests {
		p, err := rt.ParseProjection(tt.attrs, tt.excluded)
		if err != nil {
			t.Fatalf("%q/%q: %v", tt.attrs, tt.excluded, err)
		}
		out := p.Apply(rt, doc)
		var keys []string
		for k := range out {
			keys = append(keys, k)
		}
		if !sameSet(keys, tt.want) {
			t.Errorf("attributes=%q excluded=%q: keys %v, want %v", tt.attrs, tt.excluded, keys, tt.want)
		}
		if tt.check != nil {
			tt.check(t, out)
		}
	}
	if _, err := rt.ParseProjection("nope", ""); err == nil {
		t.Error("unknown attribute accepted")
	}
	if _, err := rt.ParseProjection("userName", "title"); err == nil {
		t.Error("both parameters accepted")
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}
