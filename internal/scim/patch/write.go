package patch

import (
	"strings"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// write applies an add or replace of v at t. A null v inside a value object
// means "unassigned" (RFC 7643 §2.5): replace unassigns, add has nothing to
// add.
func (e *engine) write(op string, t target, v any) error {
	if t.ref.Attr == nil {
		return e.writeExtension(op, t, v)
	}
	e.touch(t)
	if err := checkReadOnly(t); err != nil {
		return err
	}
	if writeOnly(t) {
		// Okta sends a placeholder password even without password sync;
		// it is checked for shape and then dropped, never stored.
		if v == nil {
			return nil
		}
		_, err := schema.NormalizeValue(t.ref.Target(), v, t.path)
		return err
	}
	if v == nil {
		if op == opAdd {
			return nil
		}
		return e.remove(t, nil)
	}
	if x := e.external(t); x != nil {
		return e.writeExternal(op, t, v, x)
	}
	a := t.ref.Attr
	switch {
	case !a.MultiValued && t.ref.Sub == nil && a.Type == schema.Complex:
		return e.mergeComplex(op, t, v)
	case !a.MultiValued:
		return e.setSingle(op, t, v)
	case t.multiSub():
		return e.updateMatching(op, t, v)
	case op == opAdd:
		return e.appendValues(t, v)
	default:
		return e.replaceValues(t, v)
	}
}

// remove applies a remove at t. v is Entra's value array on a multi-valued
// attribute (quirk A6): only the elements it lists are removed. Removing
// an attribute that is absent is not an error: IdPs retry removals (Entra
// re-sends the manager removal), and the end state is the one they asked
// for.
func (e *engine) remove(t target, v any) error {
	if t.ref.Attr == nil {
		return e.removeExtension(t)
	}
	e.touch(t)
	if err := checkReadOnly(t); err != nil {
		return err
	}
	if writeOnly(t) {
		return nil // never stored, so nothing to remove
	}
	if x := e.external(t); x != nil {
		return e.removeExternal(t, v, x)
	}
	a, sub := t.ref.Attr, t.ref.Sub
	c := e.rt.Container(e.doc, t.ref, false)
	if c == nil {
		return nil
	}
	switch {
	case !a.MultiValued && sub == nil:
		old, has := c[a.Name]
		if err := checkImmutable(t, a, old, has, nil); err != nil {
			return err
		}
		delete(c, a.Name)
		return nil
	case !a.MultiValued:
		parent, ok := c[a.Name].(map[string]any)
		if !ok {
			return nil
		}
		old, has := parent[sub.Name]
		if err := checkImmutable(t, sub, old, has, nil); err != nil {
			return err
		}
		delete(parent, sub.Name)
		setOrDelete(c, a.Name, parent)
		return nil
	case !t.multiSub() && v == nil:
		old, has := c[a.Name]
		if err := checkImmutable(t, a, old, has, nil); err != nil {
			return err
		}
		delete(c, a.Name)
		return nil
	}
	return e.removeMatching(t, c, v)
}

// setSingle sets a single-valued simple attribute, or a sub-attribute of a
// single-valued complex one.
func (e *engine) setSingle(op string, t target, v any) error {
	a, sub := t.ref.Attr, t.ref.Sub
	nv, err := schema.NormalizeValue(t.ref.Target(), v, t.path)
	if err != nil {
		return err
	}
	if nv == nil && op == opAdd {
		return nil // "" is unassigned: there is nothing to add
	}
	c := e.rt.Container(e.doc, t.ref, true)
	if sub == nil {
		old, has := c[a.Name]
		if err := checkImmutable(t, a, old, has, nv); err != nil {
			return err
		}
		setOrDelete(c, a.Name, nv)
		return nil
	}
	parent, _ := c[a.Name].(map[string]any)
	if parent == nil {
		parent = map[string]any{}
	}
	old, has := parent[sub.Name]
	if err := checkImmutable(t, sub, old, has, nv); err != nil {
		return err
	}
	setOrDelete(parent, sub.Name, nv)
	setOrDelete(c, a.Name, parent)
	return nil
}

// mergeComplex writes a value object into a single-valued complex
// attribute. Add and replace both keep the sub-attributes the object does
// not mention (RFC 7644 §3.5.2.1 and §3.5.2.3); a null or empty
// sub-attribute unassigns it under replace and is ignored under add.
// Read-only sub-attributes the client echoes are ignored, as on create.
func (e *engine) mergeComplex(op string, t target, v any) error {
	a := t.ref.Attr
	obj, err := complexObject(a, v, t.path)
	if err != nil {
		return err
	}
	c := e.rt.Container(e.doc, t.ref, true)
	cur, _ := c[a.Name].(map[string]any)
	if cur == nil {
		cur = map[string]any{}
	}
	for _, k := range sortedKeys(obj) {
		sub := a.Sub(k)
		if sub == nil {
			return schema.Errorf(schema.InvalidValue, t.path+"."+k, "unknown sub-attribute of %s", a.Name)
		}
		if sub.Mutability == schema.ReadOnly || sub.Mutability == schema.WriteOnly {
			continue
		}
		field := t.path + "." + sub.Name
		nv, err := schema.NormalizeValue(sub, obj[k], field)
		if err != nil {
			return err
		}
		if nv == nil && op == opAdd {
			continue
		}
		old, has := cur[sub.Name]
		if err := checkImmutable(target{path: field, ref: schema.Ref{Schema: t.ref.Schema, Attr: a, Sub: sub}}, sub, old, has, nv); err != nil {
			return err
		}
		setOrDelete(cur, sub.Name, nv)
	}
	setOrDelete(c, a.Name, cur)
	return nil
}

// writeExtension applies a value object addressed by an extension URN,
// either as the path or as a key of a path-less value: each of its keys is
// a path inside the extension.
func (e *engine) writeExtension(op string, t target, v any) error {
	s := t.ref.Schema
	if v == nil {
		if op == opAdd {
			return nil
		}
		return e.removeExtension(t)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return schema.Errorf(schema.InvalidValue, t.path, "an extension must be a JSON object")
	}
	for _, k := range sortedKeys(obj) {
		if strings.EqualFold(k, "schemas") {
			continue
		}
		inner, err := e.resolve(s.ID + ":" + k)
		if err != nil {
			return err
		}
		if inner.ref.Attr == nil || inner.ref.Schema != s {
			return schema.Errorf(schema.InvalidPath, t.path+":"+k, "no such attribute in %s", s.ID)
		}
		if err := e.write(op, inner, obj[k]); err != nil {
			return err
		}
	}
	return nil
}

// removeExtension removes all of an extension's attributes, unless that
// would remove one the client may not change.
func (e *engine) removeExtension(t target) error {
	s := t.ref.Schema
	ext, _ := e.doc[s.ID].(map[string]any)
	for _, a := range s.Attributes {
		if _, has := ext[a.Name]; has && a.Mutability != schema.ReadWrite && a.Mutability != schema.WriteOnly {
			return schema.Errorf(schema.NotMutable, t.path, "%s is %s", a.Name, a.Mutability)
		}
	}
	delete(e.doc, s.ID)
	return nil
}

// checkReadOnly rejects a path to a read-only attribute or sub-attribute:
// unlike a full resource on create, where such keys are ignored, a PATCH
// naming one asks for a change that cannot happen (RFC 7644 §3.5.2).
func checkReadOnly(t target) error {
	if t.ref.Attr.Mutability == schema.ReadOnly || (t.ref.Sub != nil && t.ref.Sub.Mutability == schema.ReadOnly) {
		return schema.Errorf(schema.NotMutable, t.path, "%s is read-only", t.ref.Target().Name)
	}
	return nil
}

func writeOnly(t target) bool {
	return t.ref.Attr.Mutability == schema.WriteOnly || (t.ref.Sub != nil && t.ref.Sub.Mutability == schema.WriteOnly)
}

// checkImmutable lets an immutable attribute be set while it has no value,
// and set again to the value it has, but not changed or removed (RFC 7643
// §2.2). a is the attribute whose value old and nv are; an immutable parent
// makes its sub-attributes immutable too.
func checkImmutable(t target, a *schema.Attribute, old any, has bool, nv any) error {
	immutable := a.Mutability == schema.Immutable || t.ref.Attr.Mutability == schema.Immutable
	if !immutable || !has || schema.IsEmpty(old) || equalValue(a, old, nv) {
		return nil
	}
	return schema.Errorf(schema.NotMutable, t.path, "%s is immutable: it can be set once but not changed", a.Name)
}
