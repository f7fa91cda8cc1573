package schema

import (
	"encoding/json"
	"math"
	"strings"
	"time"
)

// Normalize checks a resource a client sent (the body of POST or PUT, or a
// PATCH value object) against rt and returns it with canonical attribute
// names and typed values. Keys may be attribute names in any case, dotted
// sub-attribute paths ("name.givenName") or URN-qualified paths, and
// extension objects keyed by their URN. Read-only attributes are ignored
// (RFC 7644 §3.5.1), and so are write-only ones, which sagebridge never
// stores (Okta sends a placeholder password). null and empty values mean
// "unassigned" and are dropped. The "schemas" key is checked, not kept.
func (rt *ResourceType) Normalize(in map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for key, v := range in {
		if strings.EqualFold(key, "schemas") {
			if err := checkSchemas(v); err != nil {
				return nil, err
			}
			continue
		}
		if err := rt.Set(out, key, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Set normalises v for the attribute named by key and stores it in doc,
// merging into a complex attribute rather than replacing it when key names a
// sub-attribute. Keys naming read-only or write-only attributes are ignored.
func (rt *ResourceType) Set(doc map[string]any, key string, v any) error {
	if ext := rt.Extension(key); ext != nil {
		obj, ok := v.(map[string]any)
		if !ok {
			if v == nil {
				delete(doc, ext.ID)
				return nil
			}
			return Errorf(InvalidValue, key, "an extension must be a JSON object")
		}
		for k, sv := range obj {
			if err := rt.Set(doc, ext.ID+":"+k, sv); err != nil {
				return err
			}
		}
		return nil
	}
	ref, err := rt.ResolveString(key)
	if err != nil {
		return Errorf(InvalidValue, key, "unknown attribute")
	}
	if skipOnInput(ref.Attr) || (ref.Sub != nil && skipOnInput(ref.Sub)) {
		return nil
	}
	if ref.Sub != nil && ref.Attr.MultiValued {
		return Errorf(InvalidPath, key, "a sub-attribute of a multi-valued attribute needs a value filter")
	}
	nv, err := NormalizeValue(ref.Target(), v, key)
	if err != nil {
		return err
	}
	c := rt.Container(doc, ref, true)
	if ref.Sub == nil {
		setOrDelete(c, ref.Attr.Name, nv)
	} else {
		parent, _ := c[ref.Attr.Name].(map[string]any)
		if parent == nil {
			parent = map[string]any{}
		}
		setOrDelete(parent, ref.Sub.Name, nv)
		setOrDelete(c, ref.Attr.Name, parent)
	}
	if rt.IsExtension(ref.Schema) && len(c) == 0 {
		delete(doc, ref.Schema.ID)
	}
	return nil
}

func skipOnInput(a *Attribute) bool {
	return a.Mutability == ReadOnly || a.Mutability == WriteOnly
}

// setOrDelete stores v, or removes the key when v is unassigned.
func setOrDelete(m map[string]any, k string, v any) {
	if IsEmpty(v) {
		delete(m, k)
		return
	}
	m[k] = v
}

// IsEmpty reports whether v counts as unassigned (RFC 7643 §2.5): null, an
// empty array or an empty object.
func IsEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func checkSchemas(v any) error {
	list, ok := v.([]any)
	if !ok {
		return Errorf(InvalidSyntax, "schemas", "must be an array of schema URNs")
	}
	for _, s := range list {
		if _, ok := s.(string); !ok {
			return Errorf(InvalidSyntax, "schemas", "must be an array of schema URNs")
		}
	}
	return nil
}

// NormalizeValue checks v against a and returns its canonical form. field
// names the value in errors.
func NormalizeValue(a *Attribute, v any, field string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if !a.MultiValued {
		return normalizeSingle(a, v, field)
	}
	list, ok := v.([]any)
	if !ok {
		return nil, Errorf(InvalidValue, field, "%s is multi-valued: expected an array", a.Name)
	}
	out := make([]any, 0, len(list))
	for _, item := range list {
		if item == nil {
			continue
		}
		nv, err := normalizeSingle(a, item, field)
		if err != nil {
			return nil, err
		}
		if !IsEmpty(nv) {
			out = append(out, nv)
		}
	}
	return out, nil
}

// NormalizeElement checks one element of a multi-valued attribute.
func NormalizeElement(a *Attribute, v any, field string) (any, error) {
	if v == nil {
		return nil, nil
	}
	return normalizeSingle(a, v, field)
}

func normalizeSingle(a *Attribute, v any, field string) (any, error) {
	switch a.Type {
	case Complex:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, Errorf(InvalidValue, field, "%s is complex: expected an object", a.Name)
		}
		out := make(map[string]any, len(obj))
		for k, sv := range obj {
			sub := a.Sub(k)
			if sub == nil {
				return nil, Errorf(InvalidValue, field+"."+k, "unknown sub-attribute of %s", a.Name)
			}
			if skipOnInput(sub) || sv == nil {
				continue
			}
			nv, err := normalizeSingle(sub, sv, field+"."+sub.Name)
			if err != nil {
				return nil, err
			}
			setOrDelete(out, sub.Name, nv)
		}
		return out, nil
	case Boolean:
		return toBool(v, field)
	case Integer:
		f, err := toNumber(v, field)
		if err != nil {
			return nil, err
		}
		if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, Errorf(InvalidValue, field, "expected an integer")
		}
		return int64(f), nil
	case Decimal:
		return toNumber(v, field)
	case DateTime:
		s, ok := v.(string)
		if !ok {
			return nil, Errorf(InvalidValue, field, "expected a dateTime string")
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, Errorf(InvalidValue, field, "expected an xsd:dateTime such as 2024-01-02T15:04:05Z")
		}
		return s, nil
	default: // String, Reference, Binary
		s, ok := v.(string)
		if !ok {
			return nil, Errorf(InvalidValue, field, "expected a string")
		}
		if s == "" {
			return nil, nil
		}
		return s, nil
	}
}

// toBool accepts JSON booleans and, because Entra sends "True"/"False" by
// default, the strings true and false in any case.
func toBool(v any, field string) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(x) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return nil, Errorf(InvalidValue, field, "expected a boolean")
}

func toNumber(v any, field string) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f, nil
		}
	}
	return 0, Errorf(InvalidValue, field, "expected a number")
}

// CheckRequired reports the first required attribute doc lacks.
func (rt *ResourceType) CheckRequired(doc map[string]any) error {
	for _, a := range rt.Schema.Attributes {
		if a.Required && IsEmpty(doc[a.Name]) {
			return Errorf(InvalidValue, a.Name, "is required")
		}
	}
	for _, e := range rt.Extensions {
		ext, _ := doc[e.Schema.ID].(map[string]any)
		for _, a := range e.Schema.Attributes {
			if a.Required && ext != nil && IsEmpty(ext[a.Name]) {
				return Errorf(InvalidValue, e.Schema.ID+":"+a.Name, "is required")
			}
		}
	}
	return nil
}
