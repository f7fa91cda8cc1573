package patch

import (
	"errors"
	"strings"

	"github.com/sagebridge/sagebridge/internal/scim/filter"
	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// target is a resolved PATCH path.
type target struct {
	path string // as the client wrote it, for errors
	// ref.Attr is nil when the path is a bare extension URN. ref.Sub is the
	// sub-attribute, whether written "name.givenName" or after a filter
	// ("emails[type eq \"work\"].value").
	ref    schema.Ref
	filter *filter.Filter // nil without a value filter
}

// multiSub reports whether t addresses elements of a multi-valued complex
// attribute (through a filter, a sub-attribute or both) rather than the
// attribute as a whole.
func (t target) multiSub() bool {
	return t.ref.Attr.MultiValued && (t.filter != nil || t.ref.Sub != nil)
}

// resolve parses and resolves a PATCH path. Every failure is invalidPath,
// including a filter the filter package rejects, because in a PATCH the
// filter is part of the path (RFC 7644 §3.5.2).
func (e *engine) resolve(path string) (target, error) {
	t := target{path: path}
	if s := e.rt.Extension(path); s != nil {
		t.ref.Schema = s
		return t, nil
	}
	pp, err := filter.ParsePatchPath(e.colonAfterURN(path))
	if err != nil {
		return t, pathError(path, err)
	}
	ref, err := e.rt.Resolve(pp.Attr)
	if err != nil {
		return t, pathError(path, err)
	}
	t.ref = ref
	if ref.Attr == nil || pp.Filter == nil {
		if pp.Filter != nil || pp.Sub != "" {
			return t, schema.Errorf(schema.InvalidPath, path, "a value filter needs a multi-valued complex attribute")
		}
		return t, nil
	}
	if !ref.Attr.MultiValued || ref.Attr.Type != schema.Complex || ref.Sub != nil {
		return t, schema.Errorf(schema.InvalidPath, path, "a value filter needs a multi-valued complex attribute")
	}
	if t.filter, err = filter.CompileElement(e.rt, ref, pp.Filter); err != nil {
		return t, pathError(path, err)
	}
	if pp.Sub != "" {
		if t.ref.Sub = ref.Attr.Sub(pp.Sub); t.ref.Sub == nil {
			return t, schema.Errorf(schema.InvalidPath, path, "%s has no sub-attribute %q", ref.Attr.Name, pp.Sub)
		}
	}
	return t, nil
}

// colonAfterURN rewrites "<extension URN>.attr" to "<extension URN>:attr".
// Entra provisioning jobs created before December 2018 separated the
// attribute from the URN with a dot (quirk A5), and such jobs still exist.
func (e *engine) colonAfterURN(path string) string {
	for _, x := range e.rt.Extensions {
		id := x.Schema.ID
		if len(path) > len(id) && path[len(id)] == '.' && strings.EqualFold(path[:len(id)], id) {
			return id + ":" + path[len(id)+1:]
		}
	}
	return path
}

func pathError(path string, err error) error {
	var se *schema.Error
	if errors.As(err, &se) {
		return &schema.Error{Type: schema.InvalidPath, Field: path, Reason: se.Reason}
	}
	return schema.Errorf(schema.InvalidPath, path, "not a valid attribute path")
}

// eqValues collects the sub-attribute values a filter pins down when it is
// a conjunction of eq comparisons ("type eq \"work\"", possibly and-ed with
// more). A filter of any other shape does not describe one element, so
// nothing can be created from it. A nil filter pins down nothing and
// succeeds.
func eqValues(a *schema.Attribute, f *filter.Filter) (map[string]any, bool) {
	out := map[string]any{}
	if f == nil {
		return out, true
	}
	return out, collectEq(a, f.Expr(), out)
}

func collectEq(a *schema.Attribute, x filter.Expr, out map[string]any) bool {
	switch n := x.(type) {
	case *filter.Logical:
		return n != nil && strings.EqualFold(n.Op, "and") && collectEq(a, n.Left, out) && collectEq(a, n.Right, out)
	case *filter.Compare:
		if n == nil || n.Op != filter.Eq || n.Value == nil {
			return false
		}
		sub := elementSub(a, n.Path)
		if sub == nil {
			return false
		}
		if prev, dup := out[sub.Name]; dup && !equalScalar(sub, prev, n.Value) {
			return false
		}
		out[sub.Name] = n.Value
		return true
	}
	return false
}

// elementSub finds the sub-attribute a comparison inside a value filter
// names: "type" relative to the element, or "emails.type" spelled out.
func elementSub(a *schema.Attribute, p schema.Path) *schema.Attribute {
	switch {
	case p.URN != "":
		return nil
	case p.Sub == "":
		return a.Sub(p.Attr)
	case strings.EqualFold(p.Attr, a.Name):
		return a.Sub(p.Sub)
	}
	return nil
}
