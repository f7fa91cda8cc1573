package patch

import (
	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// appendValues adds elements to a multi-valued attribute (RFC 7644
// §3.5.2.1), skipping those equal to one already there so that a retried
// add changes nothing.
func (e *engine) appendValues(t target, v any) error {
	a := t.ref.Attr
	add, err := elements(a, v, t.path)
	if err != nil {
		return err
	}
	c := e.rt.Container(e.doc, t.ref, true)
	list := listOf(c, a)
	winner := -1
	for _, el := range add {
		i := indexOf(a, list, el)
		if i < 0 {
			list = append(list, el)
			i = len(list) - 1
		}
		if winner < 0 && isPrimary(el) {
			winner = i
		}
	}
	storeList(t, c, list, winner)
	return nil
}

// replaceValues replaces all elements of a multi-valued attribute (RFC 7644
// §3.5.2.3: no filter means the whole attribute).
func (e *engine) replaceValues(t target, v any) error {
	a := t.ref.Attr
	list, err := elements(a, v, t.path)
	if err != nil {
		return err
	}
	c := e.rt.Container(e.doc, t.ref, true)
	old, has := c[a.Name]
	if err := checkImmutable(t, a, old, has, list); err != nil {
		return err
	}
	storeList(t, c, list, firstPrimary(list))
	return nil
}

// updateMatching applies add or replace to the elements a filter (or, with
// a sub-attribute and no filter, every element) selects:
//   - attr[filter].sub and attr.sub set the sub-attribute on each;
//   - attr[filter] replaces each (replace) or merges the value into each
//     (add).
//
// When nothing matches, attr[filter].sub creates the element the filter
// describes if it is a conjunction of eq comparisons: Entra sends
// emails[type eq "work"].value for a user without a work email and checks
// afterwards that one exists (quirk A3). Everything else is noTarget.
func (e *engine) updateMatching(op string, t target, v any) error {
	a, sub := t.ref.Attr, t.ref.Sub
	var nv any
	var err error
	if sub != nil {
		nv, err = schema.NormalizeValue(sub, v, t.path)
	} else {
		nv, err = schema.NormalizeElement(a, v, t.path)
	}
	if err != nil {
		return err
	}
	c := e.rt.Container(e.doc, t.ref, true)
	list := listOf(c, a)
	var matched []int
	for i, el := range list {
		if m, ok := el.(map[string]any); ok && (t.filter == nil || t.filter.MatchElement(m)) {
			matched = append(matched, i)
		}
	}
	if len(matched) == 0 {
		if schema.IsEmpty(nv) {
			return nil // unassigning a sub-attribute nothing has
		}
		el, err := newElement(t, nv)
		if err != nil {
			return err
		}
		list = append(list, el)
		winner := -1
		if isPrimary(el) {
			winner = len(list) - 1
		}
		storeList(t, c, list, winner)
		return nil
	}
	for _, i := range matched {
		m := list[i].(map[string]any)
		switch {
		case sub != nil:
			if nv == nil && op == opAdd {
				continue
			}
			old, has := m[sub.Name]
			if err := checkImmutable(t, sub, old, has, nv); err != nil {
				return err
			}
			setOrDelete(m, sub.Name, deepCopy(nv))
		case op == opReplace:
			next, _ := deepCopy(nv).(map[string]any)
			if err := checkElementImmutable(t, m, next, false); err != nil {
				return err
			}
			list[i] = next
		default:
			add, _ := nv.(map[string]any)
			if err := checkElementImmutable(t, m, add, true); err != nil {
				return err
			}
			for k, sv := range add {
				m[k] = deepCopy(sv)
			}
		}
	}
	// An operation that sets primary=true makes that element the primary
	// one; the first matched element wins when several were set.
	winner := -1
	if (sub == nil && isPrimary(nv)) || (sub != nil && sub.Name == "primary" && nv == true) {
		winner = matched[0]
	}
	storeList(t, c, list, winner)
	return nil
}

// newElement builds the element attr[filter].sub asks for when none exists:
// the filter's eq values plus the sub-attribute.
func newElement(t target, nv any) (any, error) {
	a, sub := t.ref.Attr, t.ref.Sub
	if sub == nil {
		return nil, schema.Errorf(schema.NoTarget, t.path, "no %s element matches the filter", a.Name)
	}
	el, ok := eqValues(a, t.filter)
	if !ok {
		return nil, schema.Errorf(schema.NoTarget, t.path, "no %s element matches the filter, and the filter does not describe one to create", a.Name)
	}
	el[sub.Name] = nv
	// Normalising again gives the eq values their attribute types ("primary
	// eq true" came from the filter, not from a value) and drops read-only
	// sub-attributes a filter may have compared.
	return schema.NormalizeElement(a, el, t.path)
}

// checkElementImmutable rejects a change to an immutable sub-attribute of
// an existing element. With merge, sub-attributes next does not mention
// are kept and so are not a change.
func checkElementImmutable(t target, old, next map[string]any, merge bool) error {
	for _, sub := range t.ref.Attr.SubAttributes {
		if sub.Mutability != schema.Immutable && t.ref.Attr.Mutability != schema.Immutable {
			continue
		}
		nv, given := next[sub.Name]
		if merge && !given {
			continue
		}
		ov, has := old[sub.Name]
		if err := checkImmutable(t, sub, ov, has, nv); err != nil {
			return err
		}
	}
	return nil
}

// removeMatching removes what a filter, a sub-attribute or a value array
// selects in a multi-valued attribute: whole elements, or the sub-attribute
// from each (dropping elements left empty). A filter that matches nothing
// is not an error: IdPs retry removals and the end state is the one asked
// for.
func (e *engine) removeMatching(t target, c map[string]any, v any) error {
	a, sub := t.ref.Attr, t.ref.Sub
	var given []any
	if v != nil {
		var err error
		if given, err = elements(a, v, t.path); err != nil {
			return err
		}
		if len(given) == 0 {
			// An empty selection must never turn into "remove all".
			return schema.Errorf(schema.InvalidValue, t.path, "value lists no %s element to remove", a.Name)
		}
	}
	list := listOf(c, a)
	keep := make([]any, 0, len(list))
	for _, el := range list {
		m, isMap := el.(map[string]any)
		if (t.filter != nil && (!isMap || !t.filter.MatchElement(m))) || (given != nil && !matchesAny(a, el, given)) {
			keep = append(keep, el)
			continue
		}
		if sub == nil {
			if a.Mutability == schema.Immutable {
				return schema.Errorf(schema.NotMutable, t.path, "%s is immutable: it can be set once but not changed", a.Name)
			}
			continue
		}
		if !isMap {
			keep = append(keep, el)
			continue
		}
		old, has := m[sub.Name]
		if err := checkImmutable(t, sub, old, has, nil); err != nil {
			return err
		}
		delete(m, sub.Name)
		keep = append(keep, m)
	}
	storeList(t, c, keep, -1)
	return nil
}

// matchesAny reports whether el equals one of given, where an element
// equals when it has every sub-attribute value the given one lists.
func matchesAny(a *schema.Attribute, el any, given []any) bool {
	for _, g := range given {
		gm, gok := g.(map[string]any)
		em, eok := el.(map[string]any)
		if gok && eok {
			if contains(a, em, gm) {
				return true
			}
			continue
		}
		if equalSingle(a, el, g) {
			return true
		}
	}
	return false
}

// storeList stores list as the value of t's attribute after making at most
// one element primary (RFC 7643 §2.4) and dropping elements left empty.
// winner is the index of the element the operation made primary, or -1.
func storeList(t target, c map[string]any, list []any, winner int) {
	a := t.ref.Attr
	if a.Type == schema.Complex && a.Sub("primary") != nil {
		if winner < 0 || !isPrimary(list[winner]) {
			winner = firstPrimary(list)
		}
		for i, el := range list {
			if i != winner && isPrimary(el) {
				// RFC 7644 §3.5.2: the server sets primary to false on
				// the other values rather than rejecting the request.
				el.(map[string]any)["primary"] = false
			}
		}
	}
	out := list[:0]
	for _, el := range list {
		if !schema.IsEmpty(el) {
			out = append(out, el)
		}
	}
	setOrDelete(c, a.Name, out)
}

// firstPrimary returns the index of the first primary element, or -1.
func firstPrimary(list []any) int {
	for i, el := range list {
		if isPrimary(el) {
			return i
		}
	}
	return -1
}

// listOf returns the elements of a in c. A value of another shape (a
// hand-built document) counts as no elements and is overwritten.
func listOf(c map[string]any, a *schema.Attribute) []any {
	list, _ := c[a.Name].([]any)
	return list
}

// indexOf returns the index of the element of list equal to el, or -1.
func indexOf(a *schema.Attribute, list []any, el any) int {
	for i, x := range list {
		if equalSingle(a, x, el) {
			return i
		}
	}
	return -1
}
