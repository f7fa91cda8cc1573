package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"cel.dev/cel-go/cel"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/store"
)

// input is the CEL variables for one user. groups is bound lazily: most
// rules never look at it, and a user in many groups would otherwise pay for
// decoding every group document on every sign-in. CEL replaces the
// function by its result on first use.
type input struct {
	vars map[string]any
	// groupErr is set when the lazy binding met a group document it could
	// not decode; CEL has no way to fail a binding, so eval checks it.
	groupErr error
}

func newInput(user store.User, groups []store.Group) (*input, error) {
	doc, err := decodeDoc(user.Data)
	if err != nil {
		return nil, fmt.Errorf("user document: %w", err)
	}
	// The record's fields are the copies the store indexes; they win over
	// the document so that the rule sees what lookups see.
	doc["id"] = user.ID
	doc["userName"] = user.UserName
	if user.ExternalID != "" {
		doc["externalId"] = user.ExternalID
	}
	doc["active"] = user.Active
	in := &input{}
	groupDocs := func() any {
		list := make([]any, 0, len(groups))
		for _, g := range groups {
			gd, err := decodeDoc(g.Data)
			if err != nil {
				in.groupErr = fmt.Errorf("group %s document: %w", g.ID, err)
				gd = map[string]any{}
			}
			gd["id"] = g.ID
			gd["displayName"] = g.DisplayName
			if g.ExternalID != "" {
				gd["externalId"] = g.ExternalID
			}
			list = append(list, gd)
		}
		return list
	}
	in.vars = map[string]any{config.VarUser: doc, config.VarGroups: groupDocs}
	return in, nil
}

// eval runs a program that must yield a string.
func (in *input) eval(prg cel.Program) (string, error) {
	out, _, err := prg.Eval(in.vars)
	if in.groupErr != nil {
		return "", in.groupErr
	}
	if err != nil {
		return "", err
	}
	s, ok := out.Value().(string)
	if !ok {
		return "", fmt.Errorf("the expression gave %s, not a string; convert it with string(...)", out.Type().TypeName())
	}
	return s, nil
}

// decodeDoc decodes a stored SCIM document. Numbers keep their kind: an
// integer attribute is a CEL int (so string(user.badge) is "1234", not
// "1234.0") and a decimal one a double.
func decodeDoc(data json.RawMessage) (map[string]any, error) {
	doc := map[string]any{}
	if len(data) == 0 {
		return doc, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	for k, v := range doc {
		doc[k] = numbers(v)
	}
	return doc, nil
}

func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}
