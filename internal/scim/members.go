package scim

import (
	"context"
	"slices"
	"strings"

	"github.com/sagebridge/sagebridge/internal/scim/filter"
	"github.com/sagebridge/sagebridge/internal/scim/patch"
	"github.com/sagebridge/sagebridge/internal/scim/schema"
	"github.com/sagebridge/sagebridge/internal/store"
)

// memberID validates one members element: a user id, since sagebridge maps
// users to AWS identities and does not expand nested groups.
func memberID(m map[string]any) (string, error) {
	id, _ := m["value"].(string)
	if id == "" {
		return "", schema.Errorf(schema.InvalidValue, "members.value", "every member needs the id of a user in value")
	}
	if t, ok := m["type"].(string); ok && !strings.EqualFold(t, "User") {
		return "", schema.Errorf(schema.InvalidValue, "members.type", "member %s has type %q: only users can be members (nested groups are not supported)", id, t)
	}
	return id, nil
}

// memberDelta records what a PATCH does to a group's membership, in
// operation order, without reading the membership unless a remove filter
// other than `value eq` forces it to.
type memberDelta struct {
	ctx     context.Context
	store   store.Store
	groupID string

	replace bool // membership becomes exactly adds
	adds    []string
	added   map[string]bool
	removed map[string]bool
}

var _ patch.External = (*memberDelta)(nil)

func newMemberDelta(ctx context.Context, s store.Store, groupID string) *memberDelta {
	return &memberDelta{ctx: ctx, store: s, groupID: groupID, added: map[string]bool{}, removed: map[string]bool{}}
}

func (d *memberDelta) add(id string) {
	delete(d.removed, id)
	if !d.added[id] {
		d.added[id] = true
		d.adds = append(d.adds, id)
	}
}

func (d *memberDelta) remove(id string) {
	if d.added[id] {
		delete(d.added, id)
		d.adds = slices.DeleteFunc(d.adds, func(x string) bool { return x == id })
	}
	if !d.replace {
		d.removed[id] = true
	}
}

func (d *memberDelta) reset() {
	d.replace = true
	d.adds = nil
	d.added = map[string]bool{}
	d.removed = map[string]bool{}
}

func (d *memberDelta) Add(values []map[string]any) error {
	ids, err := memberIDs(values)
	for _, id := range ids {
		d.add(id)
	}
	return err
}

func (d *memberDelta) Replace(values []map[string]any) error {
	ids, err := memberIDs(values)
	if err != nil {
		return err
	}
	d.reset()
	for _, id := range ids {
		d.add(id)
	}
	return nil
}

func (d *memberDelta) Remove(f *filter.Filter, values []map[string]any) error {
	switch {
	case f == nil && values == nil:
		d.reset()
		return nil
	case f == nil:
		ids, err := memberIDs(values)
		for _, id := range ids {
			d.remove(id)
		}
		return err
	case values != nil:
		// Both: only the listed members, and of those only the ones the
		// filter matches.
		ids, err := memberIDs(values)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if f.MatchElement(memberElement(id)) {
				d.remove(id)
			}
		}
		return nil
	}
	if ids, ok := valueEqualities(f.Expr()); ok {
		for _, id := range ids {
			d.remove(id)
		}
		return nil
	}
	return d.removeMatching(f)
}

// removeMatching evaluates a general filter against every current member:
// the one member operation whose cost grows with the group.
func (d *memberDelta) removeMatching(f *filter.Filter) error {
	current := slices.Clone(d.adds)
	if !d.replace {
		err := d.store.Members(d.ctx, d.groupID, func(uid string) error {
			if !d.removed[uid] && !d.added[uid] {
				current = append(current, uid)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, id := range current {
		if f.MatchElement(memberElement(id)) {
			d.remove(id)
		}
	}
	return nil
}

// valueEqualities recognises `value eq "id"` and or-chains of it, the shapes
// Okta and Entra send, so removing a member stays O(1).
func valueEqualities(e filter.Expr) ([]string, bool) {
	switch x := e.(type) {
	case *filter.Compare:
		if x != nil {
			return valueEquality(*x)
		}
	case *filter.Logical:
		if x != nil {
			return orEqualities(*x)
		}
	}
	return nil, false
}

func valueEquality(c filter.Compare) ([]string, bool) {
	s, ok := c.Value.(string)
	if !ok || c.Op != filter.Eq || c.Path.URN != "" || !isMemberValue(c.Path) {
		return nil, false
	}
	return []string{s}, true
}

// isMemberValue reports whether p names a member's value, written relative
// to the element ("value") or spelled out ("members.value").
func isMemberValue(p schema.Path) bool {
	if p.Sub == "" {
		return strings.EqualFold(p.Attr, "value")
	}
	return strings.EqualFold(p.Attr, "members") && strings.EqualFold(p.Sub, "value")
}

func orEqualities(l filter.Logical) ([]string, bool) {
	if !strings.EqualFold(l.Op, "or") {
		return nil, false
	}
	left, ok := valueEqualities(l.Left)
	if !ok {
		return nil, false
	}
	right, ok := valueEqualities(l.Right)
	return append(left, right...), ok
}

func memberIDs(values []map[string]any) ([]string, error) {
	ids := make([]string, 0, len(values))
	for _, v := range values {
		id, err := memberID(v)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (d *memberDelta) change(g *store.Group) store.GroupChange {
	c := store.GroupChange{Group: g, ReplaceMembers: d.replace, Add: d.adds}
	for id := range d.removed {
		c.Remove = append(c.Remove, id)
	}
	slices.Sort(c.Remove)
	return c
}

// memberElement is the members element of user id, as a filter sees it.
func memberElement(id string) map[string]any {
	return map[string]any{"value": id, "type": "User"}
}
