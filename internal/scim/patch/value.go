package patch

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// elements normalises the value of an operation on a multi-valued
// attribute. RFC 7644 asks for an array, but a single element is accepted
// too, as many clients send one. Null and empty elements are dropped, as
// Normalize drops them from a created resource.
func elements(a *schema.Attribute, v any, field string) ([]any, error) {
	raw, ok := v.([]any)
	if !ok {
		raw = []any{v}
	}
	out := make([]any, 0, len(raw))
	for _, r := range raw {
		if r == nil {
			continue
		}
		nv, err := schema.NormalizeElement(a, r, field)
		if err != nil {
			return nil, err
		}
		if !schema.IsEmpty(nv) {
			out = append(out, nv)
		}
	}
	return out, nil
}

// complexObject returns the object given for a single-valued complex
// attribute. Entra sends the enterprise manager as a bare id instead of
// {"value": id} (quirk A5), so a scalar is taken as the "value"
// sub-attribute of attributes that have one.
func complexObject(a *schema.Attribute, v any, field string) (map[string]any, error) {
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case string, bool, float64, int64, json.Number:
		if a.Sub("value") != nil {
			return map[string]any{"value": x}, nil
		}
	}
	return nil, schema.Errorf(schema.InvalidValue, field, "%s is complex: expected an object", a.Name)
}

// isPrimary reports whether v is an element with primary=true.
func isPrimary(v any) bool {
	m, _ := v.(map[string]any)
	p, _ := m["primary"].(bool)
	return p
}

// equalValue compares two normalised values of a: strings of attributes
// that are not caseExact without regard to case (RFC 7643 §2.2), numbers
// by value whatever their Go type, elements and complex values sub-attribute
// by sub-attribute.
func equalValue(a *schema.Attribute, x, y any) bool {
	if a.MultiValued {
		lx, okx := x.([]any)
		ly, oky := y.([]any)
		if okx && oky {
			if len(lx) != len(ly) {
				return false
			}
			for i := range lx {
				if !equalSingle(a, lx[i], ly[i]) {
					return false
				}
			}
			return true
		}
	}
	return equalSingle(a, x, y)
}

// equalSingle compares one value (an element, for a multi-valued a).
func equalSingle(a *schema.Attribute, x, y any) bool {
	if a.Type != schema.Complex {
		return equalScalar(a, x, y)
	}
	mx, okx := x.(map[string]any)
	my, oky := y.(map[string]any)
	if !okx || !oky {
		return reflect.DeepEqual(x, y)
	}
	return len(mx) == len(my) && contains(a, mx, my)
}

// contains reports whether every sub-attribute given in want has the same
// value in have. Removing members by value array (quirk A6) matches this
// way, so {"value": "u-1"} finds a stored {"value": "u-1", "type": "User"}.
func contains(a *schema.Attribute, have, want map[string]any) bool {
	for k, wv := range want {
		hv, ok := have[k]
		if !ok {
			return false
		}
		sub := a.Sub(k)
		if sub == nil {
			if !reflect.DeepEqual(hv, wv) {
				return false
			}
			continue
		}
		if !equalScalar(sub, hv, wv) {
			return false
		}
	}
	return true
}

func equalScalar(a *schema.Attribute, x, y any) bool {
	if sx, ok := x.(string); ok {
		sy, ok := y.(string)
		if !ok {
			return false
		}
		if a.CaseExact {
			return sx == sy
		}
		return strings.EqualFold(sx, sy)
	}
	if fx, ok := number(x); ok {
		fy, ok := number(y)
		return ok && fx == fy
	}
	return reflect.DeepEqual(x, y)
}

// number reads the numeric types a document may hold: int64 and float64
// from Normalize, float64 from a document decoded by encoding/json.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// setOrDelete stores v, or removes the key when v counts as unassigned, so
// that no null, empty object or empty array is ever stored (RFC 7643 §2.5).
func setOrDelete(m map[string]any, k string, v any) {
	if schema.IsEmpty(v) {
		delete(m, k)
		return
	}
	m[k] = v
}
