package patch

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// MaxOperations bounds the operations of one request. IdPs send a handful
// per PATCH (Okta: a remove and an add; Entra: one per changed attribute),
// so a thousand leaves ample room while bounding the work one request can
// ask for.
const MaxOperations = 1000

// Operation is one element of a PatchOp request's "Operations" array. Op is
// "add", "replace" or "remove" in lower case once ParseRequest has checked
// it; Apply also accepts other cases.
type Operation struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// Op names as ParseRequest returns them.
const (
	opAdd     = "add"
	opReplace = "replace"
	opRemove  = "remove"
)

// ParseRequest decodes a PatchOp request body and checks its structure: the
// "schemas" array must list schema.PatchOpURN, and "Operations" must hold
// between one and MaxOperations operations, each with a known "op". Op names
// are compared case-insensitively, because Entra sends "Add", "Replace" and
// "Remove" (quirk A1), and returned in lower case. Whether paths and values
// make sense for the resource is Apply's business.
//
// Errors are *schema.Error: invalidSyntax for a malformed body, a missing
// schema URN, no operations or an unknown op (naming "Operations[i].op"),
// and invalidValue for more than MaxOperations operations (RFC 7644 §3.12
// reserves tooMany for filters).
func ParseRequest(body []byte) ([]Operation, error) {
	var req struct {
		Schemas    []string          `json:"schemas"`
		Operations []json.RawMessage `json:"Operations"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, schema.Errorf(schema.InvalidSyntax, "", "the body is not a PatchOp request: %s", jsonReason(err))
	}
	if !hasPatchOpURN(req.Schemas) {
		return nil, schema.Errorf(schema.InvalidSyntax, "schemas", "must contain %s", schema.PatchOpURN)
	}
	switch n := len(req.Operations); {
	case n == 0:
		return nil, schema.Errorf(schema.InvalidSyntax, "Operations", "at least one operation is required")
	case n > MaxOperations:
		return nil, schema.Errorf(schema.InvalidValue, "Operations", "%d operations: at most %d are allowed in one request", n, MaxOperations)
	}
	ops := make([]Operation, len(req.Operations))
	for i, raw := range req.Operations {
		var op Operation
		if err := json.Unmarshal(raw, &op); err != nil {
			return nil, schema.Errorf(schema.InvalidSyntax, fmt.Sprintf("Operations[%d]", i), "not an operation: %s", jsonReason(err))
		}
		name, ok := opName(op.Op)
		if !ok {
			return nil, schema.Errorf(schema.InvalidSyntax, fmt.Sprintf("Operations[%d].op", i), "unknown operation %q: expected add, replace or remove", op.Op)
		}
		op.Op = name
		ops[i] = op
	}
	return ops, nil
}

func hasPatchOpURN(schemas []string) bool {
	for _, s := range schemas {
		if strings.EqualFold(s, schema.PatchOpURN) {
			return true
		}
	}
	return false
}

// opName returns the canonical (lower-case) name of op.
func opName(op string) (string, bool) {
	for _, name := range []string{opAdd, opReplace, opRemove} {
		if strings.EqualFold(op, name) {
			return name, true
		}
	}
	return "", false
}

// jsonReason describes a decoding error without the Go type names
// encoding/json puts in its messages: error text goes back to the client.
func jsonReason(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Sprintf("expected an object, got a JSON %s", typ.Value)
		}
		return fmt.Sprintf("%s has the wrong type (JSON %s)", typ.Field, typ.Value)
	}
	return "invalid JSON"
}
