package patch

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sagebridge/sagebridge/internal/scim/filter"
	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

var (
	userType  = schema.NewUserType()
	groupType = schema.NewGroupType()
)

const ext = schema.EnterpriseURN

// baseUser is a normalised user: rt.Normalize returns it unchanged, which
// the fuzz test relies on.
func baseUser() map[string]any {
	return map[string]any{
		"userName":    "alice@corp.example",
		"displayName": "Alice Lee",
		"active":      true,
		"name":        map[string]any{"givenName": "Alice", "familyName": "Lee", "formatted": "Alice Lee"},
		"emails": []any{
			map[string]any{"value": "alice@corp.example", "type": "work", "primary": true},
			map[string]any{"value": "alice@home.example", "type": "home"},
		},
		ext: map[string]any{"department": "Sales", "manager": map[string]any{"value": "u-old"}},
	}
}

func baseGroup() map[string]any {
	return map[string]any{
		"displayName": "Data Scientists",
		"members": []any{
			map[string]any{"value": "u-1", "type": "User"},
			map[string]any{"value": "u-123"},
			map[string]any{"value": "u-2"},
		},
	}
}

// body builds a PatchOp request from operation objects.
func body(ops ...string) []byte {
	return []byte(`{"schemas":["` + schema.PatchOpURN + `"],"Operations":[` + strings.Join(ops, ",") + `]}`)
}

// run parses b and applies it to doc, checking on the way that doc is left
// as it was whatever the outcome.
func run(t *testing.T, rt *schema.ResourceType, doc map[string]any, b []byte, opts Options) (map[string]any, error) {
	t.Helper()
	ops, err := ParseRequest(b)
	if err != nil {
		t.Fatalf("ParseRequest(%s): %v", b, err)
	}
	before := deepCopy(doc)
	got, err := Apply(rt, doc, ops, opts)
	if !reflect.DeepEqual(before, doc) {
		t.Fatalf("Apply changed its input document:\nbefore %v\nafter  %v", before, doc)
	}
	if err != nil && got != nil {
		t.Fatalf("Apply returned a document and an error: %v", err)
	}
	return got, err
}

func mustRun(t *testing.T, rt *schema.ResourceType, doc map[string]any, b []byte, opts Options) map[string]any {
	t.Helper()
	got, err := run(t, rt, doc, b, opts)
	if err != nil {
		t.Fatalf("Apply(%s): %v", b, err)
	}
	return got
}

// wantErr checks that err is a *schema.Error of type typ.
func wantErr(t *testing.T, err error, typ schema.ErrorType) *schema.Error {
	t.Helper()
	var se *schema.Error
	if !errors.As(err, &se) {
		t.Fatalf("error = %v, want a *schema.Error %s", err, typ)
	}
	if se.Type != typ {
		t.Fatalf("scimType = %s (%v), want %s", se.Type, se, typ)
	}
	return se
}

// with returns a copy of doc with the keys of kv set (nil deletes).
func with(doc map[string]any, kv ...any) map[string]any {
	out := deepCopy(doc).(map[string]any)
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
		} else {
			out[k] = kv[i+1]
		}
	}
	return out
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func checkDoc(t *testing.T, got, want map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("document:\n got  %s\n want %s", jsonOf(got), jsonOf(want))
	}
}

// call is one External call as fakeExternal records it.
type call struct {
	op     string
	filter *filter.Filter
	values []map[string]any
}

// fakeExternal records the delta Apply hands it, as a store-backed one
// would before the caller commits it.
type fakeExternal struct {
	calls []call
	err   error
}

func (f *fakeExternal) Add(v []map[string]any) error {
	f.calls = append(f.calls, call{op: "Add", values: v})
	return f.err
}

func (f *fakeExternal) Replace(v []map[string]any) error {
	f.calls = append(f.calls, call{op: "Replace", values: v})
	return f.err
}

func (f *fakeExternal) Remove(fl *filter.Filter, v []map[string]any) error {
	f.calls = append(f.calls, call{op: "Remove", filter: fl, values: v})
	return f.err
}

func members(ids ...string) []map[string]any {
	out := make([]map[string]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"value": id}
	}
	return out
}
