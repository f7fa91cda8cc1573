package patch

import (
	"errors"
	"reflect"
	"testing"

	"github.com/sagebridge/sagebridge/internal/scim/filter"
	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// quirkSeeds are the shapes of the quirk tests, as fuzz seeds.
var quirkSeeds = []string{
	`{"op":"Replace","path":"name.familyName","value":"Lee"}`,
	`{"op":"Add","path":"nickName","value":"Babs"}`,
	`{"op":"Replace","path":"active","value":"False"}`,
	`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@corp.example"}`,
	`{"op":"Add","path":"addresses[type eq \"work\"].formatted","value":"18/2111"}`,
	`{"op":"Replace","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555 0100"}`,
	`{"op":"replace","value":{"displayName":"Bjorn F","name.givenName":"Bjorn","name.familyName":"F","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"4711"}}`,
	`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"u-boss"}`,
	`{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}`,
	`{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u-123"}]}`,
	`{"op":"Add","path":"members","value":[{"$ref":null,"value":"u-123"}]}`,
	`{"op":"replace","value":{"active":false}}`,
	`{"op":"replace","value":{"id":"g-1","displayName":"Test SCIMv2"}}`,
	`{"op":"remove","path":"members[value eq \"u-2\"]"}`,
	`{"op":"add","path":"members","value":[{"value":"u-9","display":"x"}]}`,
	`{"op":"replace","path":"members","value":[{"value":"u-7"},{"value":"u-8"}]}`,
	`{"op":"add","path":"emails[type eq \"other\" and primary eq true].value","value":"o@x"}`,
}

// fuzzTarget is a resource FuzzApply patches.
type fuzzTarget struct {
	rt   *schema.ResourceType
	doc  map[string]any
	opts Options
}

// FuzzApply checks, for any request body, that nothing panics, that the
// input document is never changed, that errors are *schema.Error, and that
// a successful result is a valid, normalised resource: rt.Normalize gives
// it back unchanged and CheckRequired passes.
func FuzzApply(f *testing.F) {
	for _, op := range quirkSeeds {
		f.Add(body(op))
	}
	for _, c := range rfcCases() {
		f.Add(body(c.ops...))
	}
	for _, cases := range [][]errorCase{mutabilityCases(), noTargetCases(), invalidPathCases(), invalidValueCases()} {
		for _, c := range cases {
			f.Add(body(c.ops...))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ops, err := ParseRequest(b)
		if err != nil {
			var se *schema.Error
			if !errors.As(err, &se) {
				t.Fatalf("ParseRequest error %v is not a *schema.Error", err)
			}
			return
		}
		targets := []fuzzTarget{
			{userType, baseUser(), Options{ID: "u-1"}},
			{groupType, baseGroup(), Options{ID: "g-1"}},
			{groupType, map[string]any{"displayName": "G"}, Options{ID: "g-1", External: map[string]External{"members": &fakeExternal{}}}},
		}
		for _, c := range targets {
			before := deepCopy(c.doc)
			got, err := Apply(c.rt, c.doc, ops, c.opts)
			if !reflect.DeepEqual(before, c.doc) {
				t.Fatalf("%s: Apply changed its input (err %v)", c.rt.Name, err)
			}
			if err != nil {
				var se *schema.Error
				if !errors.As(err, &se) || got != nil {
					t.Fatalf("%s: Apply = %v, %v; want nil and a *schema.Error", c.rt.Name, got, err)
				}
				continue
			}
			norm, err := c.rt.Normalize(deepCopy(got).(map[string]any))
			if err != nil {
				t.Fatalf("%s: result %s does not normalise: %v", c.rt.Name, jsonOf(got), err)
			}
			if !reflect.DeepEqual(norm, got) {
				t.Fatalf("%s: result is not normalised:\n got  %s\n norm %s", c.rt.Name, jsonOf(got), jsonOf(norm))
			}
			if err := c.rt.CheckRequired(got); err != nil {
				t.Fatalf("%s: result fails CheckRequired: %v", c.rt.Name, err)
			}
		}
	})
}

func TestFixturesAreNormalised(t *testing.T) {
	for _, c := range []fuzzTarget{{rt: userType, doc: baseUser()}, {rt: groupType, doc: baseGroup()}} {
		norm, err := c.rt.Normalize(c.doc)
		if err != nil || !reflect.DeepEqual(norm, c.doc) {
			t.Errorf("%s fixture: Normalize = %s, %v", c.rt.Name, jsonOf(norm), err)
		}
	}
}

func BenchmarkApply(b *testing.B) {
	benches := []struct {
		name string
		rt   *schema.ResourceType
		doc  map[string]any
		body []byte
		opts Options
	}{
		{"EntraPathlessReplace", userType, baseUser(), body(quirkSeeds[6]), Options{}},
		{"EntraFilteredCreate", userType, baseUser(), body(quirkSeeds[4], quirkSeeds[5]), Options{}},
		{"OktaDeactivate", userType, baseUser(), body(quirkSeeds[11]), Options{}},
		{"OktaMembership", groupType, map[string]any{"displayName": "G"},
			body(quirkSeeds[12], quirkSeeds[13], quirkSeeds[14]),
			Options{ID: "g-1", External: map[string]External{"members": discard{}}}},
	}
	for _, bb := range benches {
		ops, err := ParseRequest(bb.body)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Apply(bb.rt, bb.doc, ops, bb.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// discard is an External that records nothing, so the benchmark measures
// Apply alone.
type discard struct{}

func (discard) Add([]map[string]any) error                    { return nil }
func (discard) Replace([]map[string]any) error                { return nil }
func (discard) Remove(*filter.Filter, []map[string]any) error { return nil }
