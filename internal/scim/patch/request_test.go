package patch

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

func TestParseRequest(t *testing.T) {
	ops, err := ParseRequest([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Add","path":"nickName","value":"B"},{"op":"remove","path":"title"},{"op":"REPLACE","value":{"active":false}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Operation{
		{Op: "add", Path: "nickName", Value: "B"},
		{Op: "remove", Path: "title"},
		{Op: "replace", Value: map[string]any{"active": false}},
	}
	if !reflect.DeepEqual(ops, want) {
		t.Errorf("ops = %+v, want %+v", ops, want)
	}

	many := make([]string, MaxOperations+1)
	for i := range many {
		many[i] = `{"op":"remove","path":"title"}`
	}
	tests := []struct {
		name, body string
		typ        schema.ErrorType
		field      string
	}{
		{"not JSON", `{"schemas":`, schema.InvalidSyntax, ""},
		{"not an object", `[]`, schema.InvalidSyntax, ""},
		{"null", `null`, schema.InvalidSyntax, "schemas"},
		{"no schemas", `{"Operations":[{"op":"add","value":{}}]}`, schema.InvalidSyntax, "schemas"},
		{"wrong schema", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"add","value":{}}]}`, schema.InvalidSyntax, "schemas"},
		{"schemas not an array", `{"schemas":"urn:ietf:params:scim:api:messages:2.0:PatchOp","Operations":[]}`, schema.InvalidSyntax, ""},
		{"no operations", string(body()), schema.InvalidSyntax, "Operations"},
		{"too many operations", string(body(many...)), schema.InvalidValue, "Operations"},
		{"unknown op", string(body(`{"op":"add","value":{}}`, `{"op":"add","value":{}}`, `{"op":"move","path":"x"}`)), schema.InvalidSyntax, "Operations[2].op"},
		{"missing op", string(body(`{"path":"x"}`)), schema.InvalidSyntax, "Operations[0].op"},
		{"op not a string", string(body(`{"op":1}`)), schema.InvalidSyntax, "Operations[0]"},
		{"path not a string", string(body(`{"op":"remove","path":["x"]}`)), schema.InvalidSyntax, "Operations[0]"},
		{"operation not an object", string(body(`"add"`)), schema.InvalidSyntax, "Operations[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRequest([]byte(tt.body))
			se := wantErr(t, err, tt.typ)
			if se.Field != tt.field {
				t.Errorf("Field = %q, want %q", se.Field, tt.field)
			}
			if strings.Contains(se.Reason, "Go ") || strings.Contains(se.Reason, "struct") {
				t.Errorf("Reason leaks Go internals: %q", se.Reason)
			}
		})
	}

	// The schema URN is compared case-insensitively; the field names of the
	// envelope are matched as encoding/json does, without regard to case.
	if _, err := ParseRequest([]byte(fmt.Sprintf(`{"Schemas":[%q],"operations":[{"Op":"add","Value":{"nickName":"x"}}]}`,
		strings.ToUpper(schema.PatchOpURN)))); err != nil {
		t.Errorf("ParseRequest: %v", err)
	}
}
