package patch

import (
	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// external returns the External that holds t's attribute, or nil when the
// attribute lives in the document.
func (e *engine) external(t target) External {
	if t.ref.Attr == nil || e.rt.IsExtension(t.ref.Schema) {
		return nil
	}
	return e.opts.External[t.ref.Attr.Name]
}

// writeExternal turns add and replace of a whole external attribute into
// Add and Replace. Changing elements in place (a filter or a sub-attribute
// in the path) would need them loaded, which is what External avoids; for
// members those sub-attributes are immutable anyway, so the client removes
// and adds instead.
func (e *engine) writeExternal(op string, t target, v any, x External) error {
	if err := externalShape(t); err != nil {
		return err
	}
	vals, err := externalValues(t, v)
	if err != nil {
		return err
	}
	if op == opAdd {
		if len(vals) == 0 {
			return nil
		}
		return x.Add(vals)
	}
	return x.Replace(vals)
}

// removeExternal turns a remove into Remove: with a filter, the matching
// values (Okta: members[value eq "id"]); with a value array, the values it
// lists (Entra, quirk A6); with neither, every value. Only a bare path
// without a value removes everything.
func (e *engine) removeExternal(t target, v any, x External) error {
	if t.ref.Sub != nil {
		return externalShape(t)
	}
	var vals []map[string]any
	if v != nil {
		var err error
		if vals, err = externalValues(t, v); err != nil {
			return err
		}
		if len(vals) == 0 {
			return schema.Errorf(schema.InvalidValue, t.path, "value lists no %s element to remove", t.ref.Attr.Name)
		}
	}
	return x.Remove(t.filter, vals)
}

func externalShape(t target) error {
	if t.ref.Sub != nil && t.ref.Sub.Mutability == schema.Immutable {
		return schema.Errorf(schema.NotMutable, t.path, "%s is immutable: remove the %s element and add a new one", t.ref.Sub.Name, t.ref.Attr.Name)
	}
	if t.ref.Sub != nil || t.filter != nil {
		return schema.Errorf(schema.InvalidPath, t.path, "%s can only be added, replaced or removed as a whole, or removed by filter", t.ref.Attr.Name)
	}
	return nil
}

// externalValues normalises the elements handed to an External: unknown
// sub-attributes are rejected, null ones ("$ref": null) and read-only ones
// (a member's display, which Okta sends) dropped.
func externalValues(t target, v any) ([]map[string]any, error) {
	list, err := elements(t.ref.Attr, v, t.path)
	if err != nil {
		return nil, err
	}
	vals := make([]map[string]any, 0, len(list))
	for _, el := range list {
		if m, ok := el.(map[string]any); ok {
			vals = append(vals, m)
		}
	}
	return vals, nil
}
