package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

func TestExtensionSchemas(t *testing.T) {
	src := `scim:
  extensions:
    - id: urn:acme:ext:2.0:User
      name: Acme
      description: Acme attributes
      attributes:
        - name: costCenter
          type: string
          caseExact: true
          canonicalValues: [eng, ops]
        - name: badge
          type: integer
          required: true
          mutability: immutable
          returned: always
          uniqueness: server
        - name: desk
          type: complex
          multiValued: true
          subAttributes:
            - {name: building, type: string}
            - {name: since, type: dateTime, mutability: readOnly, returned: never}
    - id: urn:other:ext
      attributes: [{name: flag, type: boolean}]
`
	c, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	before := clone(t, c)
	exts, err := c.ExtensionSchemas()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, before) {
		t.Error("ExtensionSchemas changed the configuration")
	}
	if len(exts) != 2 || exts[0].ID != "urn:acme:ext:2.0:User" || exts[0].Name != "Acme" ||
		exts[0].Description != "Acme attributes" || exts[1].ID != "urn:other:ext" {
		t.Fatalf("schemas = %+v", exts)
	}
	s := exts[0]
	cc := s.Attr("COSTCENTER") // NewSchema's lookup table is case-insensitive
	if cc == nil || cc.Type != schema.String || !cc.CaseExact || !reflect.DeepEqual(cc.CanonicalValues, []string{"eng", "ops"}) ||
		cc.Mutability != schema.ReadWrite || cc.Returned != schema.ReturnedDefault || cc.Uniqueness != schema.UniqueNone {
		t.Errorf("costCenter = %+v (RFC defaults expected for mutability/returned/uniqueness)", cc)
	}
	b := s.Attr("badge")
	if b == nil || b.Type != schema.Integer || !b.Required || b.Mutability != schema.Immutable ||
		b.Returned != schema.ReturnedAlways || b.Uniqueness != schema.UniqueServer {
		t.Errorf("badge = %+v", b)
	}
	d := s.Attr("desk")
	if d == nil || d.Type != schema.Complex || !d.MultiValued || len(d.SubAttributes) != 2 {
		t.Fatalf("desk = %+v", d)
	}
	since := d.Sub("since")
	if since == nil || since.Type != schema.DateTime || since.Mutability != schema.ReadOnly || since.Returned != schema.ReturnedNever {
		t.Errorf("desk.since = %+v", since)
	}
	if exts[1].Attr("flag").Type != schema.Boolean {
		t.Errorf("flag = %+v", exts[1].Attr("flag"))
	}
	rt := schema.NewUserType(exts...)
	if rt.Extension("URN:ACME:EXT:2.0:USER") == nil {
		t.Error("User type does not find the extension")
	}
}

func TestExtensionSchemasNone(t *testing.T) {
	exts, err := Default().ExtensionSchemas()
	if err != nil || len(exts) != 0 {
		t.Errorf("Default().ExtensionSchemas() = %v, %v; want none", exts, err)
	}
}

func TestExtensionSchemasRefusesInvalid(t *testing.T) {
	// A Config built in code skips Parse; ExtensionSchemas must still refuse
	// values schema.NewSchema would let through.
	c := Default()
	c.SCIM.Extensions = []Extension{{ID: "urn:x", Attributes: []Attribute{{Name: "a", Type: "string", Mutability: "sometimes"}}}}
	_, err := c.ExtensionSchemas()
	if err == nil || !strings.Contains(err.Error(), `scim.extensions[0].attributes[0].mutability: must be one of`) {
		t.Errorf("err = %v", err)
	}
}

func TestValidateHasNoSideEffects(t *testing.T) {
	c := Default()
	c.SCIM.Extensions = []Extension{{
		ID: "urn:x",
		Attributes: []Attribute{
			{Name: "a", Type: "string"},
			{Name: "c", Type: "complex", SubAttributes: []Attribute{{Name: "s", Type: "bogus"}}},
		},
	}}
	before := clone(t, c)
	if err := c.Validate(); err == nil {
		t.Fatal("want a problem for type bogus")
	}
	if !reflect.DeepEqual(c, before) {
		t.Errorf("Validate changed the configuration:\n got %+v\nwant %+v", c, before)
	}
}

func TestValidateWithoutFile(t *testing.T) {
	c := Default()
	c.Listen = "nowhere"
	c.Log.Level = "trace"
	err := c.Validate()
	want := "listen: must be host:port such as 127.0.0.1:8080, got \"nowhere\" (missing port in address)\n" +
		"log.level: must be one of debug, info, warn, error, got \"trace\""
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// clone deep-copies c, so that comparing against it catches mutation
// through shared slices as well as of fields.
func clone(t *testing.T, c *Config) *Config {
	t.Helper()
	cp := *c
	cp.SCIM.Extensions = make([]Extension, len(c.SCIM.Extensions))
	for i, e := range c.SCIM.Extensions {
		e.Attributes = cloneAttrs(e.Attributes)
		cp.SCIM.Extensions[i] = e
	}
	if c.SCIM.Extensions == nil {
		cp.SCIM.Extensions = nil
	}
	return &cp
}

func cloneAttrs(attrs []Attribute) []Attribute {
	if attrs == nil {
		return nil
	}
	out := make([]Attribute, len(attrs))
	for i, a := range attrs {
		a.CanonicalValues = slices.Clone(a.CanonicalValues)
		a.SubAttributes = cloneAttrs(a.SubAttributes)
		out[i] = a
	}
	return out
}

// The decoder is generic so that later sections (pointers to optional
// blocks, name-keyed tables) need no new decoding code.
func TestDecoderGrowth(t *testing.T) {
	type section struct {
		Enabled bool              `yaml:"enabled"`
		Table   map[string]string `yaml:"table"`
		Limit   *int              `yaml:"limit,omitempty"`
	}
	type root struct {
		Opt *section `yaml:"opt"`
	}
	src := "opt:\n  enabled: true\n  limit: 3\n  table:\n    a: x\n    b: [y]\n    a: z\n  extra: 1\n"
	d := &decoder{file: "g.yaml", lines: map[string]int{}, bad: map[string]bool{}}
	var r root
	d.decode(d.document([]byte(src)), reflect.ValueOf(&r).Elem(), "")
	if r.Opt == nil || !r.Opt.Enabled || r.Opt.Limit == nil || *r.Opt.Limit != 3 || r.Opt.Table["a"] != "x" {
		t.Errorf("decoded %+v", r.Opt)
	}
	got := strings.Split(d.problems.Error(), "\n")
	want := []string{
		`g.yaml:6: opt.table.b: must be a string, got a list`,
		`g.yaml:7: opt.table.a: set twice (first on line 5)`,
		`g.yaml:8: opt.extra: unknown field; known fields here: enabled, limit, table`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d.lines["opt.table.a"] != 5 || d.lines["opt.limit"] != 3 {
		t.Errorf("lines = %v", d.lines)
	}
}
